"""The customer-facing survey pages: server-rendered, Vietnamese or English, usable on a
phone, labelled for screen readers, no external assets."""

from __future__ import annotations

from html import escape

TEXT = {
    "vi": {
        "title": "Đánh giá hỗ trợ",
        "csat_q": "Bạn hài lòng thế nào với sự hỗ trợ của chúng tôi?",
        "nps_q": "Bạn có sẵn lòng giới thiệu chúng tôi cho bạn bè hoặc đồng nghiệp không?",
        "csat_labels": {
            1: "Rất không hài lòng",
            2: "Không hài lòng",
            3: "Bình thường",
            4: "Hài lòng",
            5: "Rất hài lòng",
        },
        "nps_low": "Hoàn toàn không",
        "nps_high": "Chắc chắn có",
        "comment": "Góp ý thêm (không bắt buộc)",
        "submit": "Gửi đánh giá",
        "thanks": "Cảm ơn bạn đã đánh giá!",
        "thanks_body": "Ý kiến của bạn giúp chúng tôi phục vụ tốt hơn.",
        "ticket": "Yêu cầu",
        "refused": {
            "forged": "Liên kết khảo sát không hợp lệ.",
            "malformed": "Liên kết khảo sát không hợp lệ.",
            "expired": "Liên kết khảo sát đã hết hạn.",
            "already answered": "Khảo sát này đã được trả lời. Cảm ơn bạn!",
            "missing": "Không tìm thấy khảo sát.",
            "score": "Vui lòng chọn một mức điểm.",
        },
    },
    "en": {
        "title": "Rate our support",
        "csat_q": "How satisfied are you with our support?",
        "nps_q": "How likely are you to recommend us to a friend or colleague?",
        "csat_labels": {
            1: "Very dissatisfied",
            2: "Dissatisfied",
            3: "Neutral",
            4: "Satisfied",
            5: "Very satisfied",
        },
        "nps_low": "Not at all likely",
        "nps_high": "Extremely likely",
        "comment": "Anything else you'd like to tell us? (optional)",
        "submit": "Send",
        "thanks": "Thank you for your feedback!",
        "thanks_body": "It helps us serve you better.",
        "ticket": "Request",
        "refused": {
            "forged": "This survey link is not valid.",
            "malformed": "This survey link is not valid.",
            "expired": "This survey link has expired.",
            "already answered": "This survey has already been answered. Thank you!",
            "missing": "We could not find this survey.",
            "score": "Please pick a score.",
        },
    },
}

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f7fa;color:#1d2733}
main{max-width:36rem;margin:0 auto;padding:1.25rem}
h1{font-size:1.4rem}fieldset{border:0;padding:0;margin:0 0 1rem}legend{font-weight:600;margin-bottom:.75rem}
.scores{display:flex;flex-wrap:wrap;gap:.4rem}.scores label{flex:1 0 2.6rem;text-align:center;border:2px solid #c5cfdb;
border-radius:.5rem;padding:.6rem .2rem;background:#fff;cursor:pointer;min-height:2.75rem}
.scores input{position:absolute;opacity:0}.scores input:focus+span{outline:3px solid #1a73e8}
.scores input:checked+span{font-weight:700;color:#0b57d0}.scores label:has(input:checked){border-color:#0b57d0;background:#e8f0fe}.ends{display:flex;justify-content:space-between;font-size:.85rem}
textarea{width:100%;min-height:6rem;font:inherit;box-sizing:border-box}button{font:inherit;font-size:1.1rem;
padding:.8rem 1.4rem;border:0;border-radius:.5rem;background:#0b57d0;color:#fff;width:100%;margin-top:1rem}
.error{background:#fde7e9;border-left:4px solid #c5221f;padding:.75rem}
"""


def _page(lang: str, title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def language_of(value: str | None) -> str:
    return value if value in TEXT else "vi"


def form_page(
    lang: str, kind: str, ticket_id: str | None, action: str, error: str | None = None
) -> str:
    t = TEXT[language_of(lang)]
    if kind == "csat":
        labels: dict[int, str] = t["csat_labels"]  # type: ignore[assignment]
        options = "".join(
            f'<label><input type="radio" name="score" value="{n}" aria-label="{n} – {escape(labels[n])}">'
            f"<span>{n}<br><small>{escape(labels[n])}</small></span></label>"
            for n in range(1, 6)
        )
        question, ends = t["csat_q"], ""
    else:
        options = "".join(
            f'<label><input type="radio" name="score" value="{n}" aria-label="{n}"><span>{n}</span></label>'
            for n in range(0, 11)
        )
        question = t["nps_q"]
        ends = f'<div class="ends" aria-hidden="true"><span>0 = {escape(str(t["nps_low"]))}</span><span>10 = {escape(str(t["nps_high"]))}</span></div>'
    ticket = f"<p>{escape(str(t['ticket']))} [#{escape(ticket_id)}]</p>" if ticket_id else ""
    alert = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        f"<h1>{escape(str(t['title']))}</h1>{ticket}{alert}"
        f'<form method="post" action="{escape(action)}">'
        f'<fieldset><legend id="q">{escape(str(question))}</legend>'
        f'<div class="scores" role="radiogroup" aria-labelledby="q">{options}</div>{ends}</fieldset>'
        f'<label for="comment">{escape(str(t["comment"]))}</label>'
        f'<textarea id="comment" name="comment" maxlength="2000"></textarea>'
        f'<button type="submit">{escape(str(t["submit"]))}</button></form>'
    )
    return _page(language_of(lang), str(t["title"]), body)


def thanks_page(lang: str) -> str:
    t = TEXT[language_of(lang)]
    body = (
        f'<h1 role="status">{escape(str(t["thanks"]))}</h1><p>{escape(str(t["thanks_body"]))}</p>'
    )
    return _page(language_of(lang), str(t["thanks"]), body)


def refused_page(lang: str, reason: str) -> str:
    t = TEXT[language_of(lang)]
    refused: dict[str, str] = t["refused"]  # type: ignore[assignment]
    message = refused.get(reason, refused["forged"])
    return _page(
        language_of(lang),
        str(t["title"]),
        f'<h1>{escape(str(t["title"]))}</h1><p class="error" role="alert">{escape(message)}</p>',
    )
