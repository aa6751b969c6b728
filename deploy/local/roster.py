"""The demo support team for `make run`: tiers, skills, languages and capacities; Hà (L3)
leads the team and approves compensation above the agents' limits."""

from __future__ import annotations

from typing import Any

ALL_SKILLS = ("billing", "shipping", "technical", "warranty", "sales", "account", "general")

ROSTER: list[dict[str, Any]] = [
    {
        "agent_id": "lan",
        "name": "Nguyễn Thị Lan",
        "team": "customer_care",
        "tier": "L1",
        "skills": {"billing": 4, "shipping": 4, "sales": 3, "account": 3, "general": 4},
        "languages": ["vi"],
        "capacity": {"chat": 3, "email": 6, "phone": 1, "on_site": 0},
    },
    {
        "agent_id": "minh",
        "name": "Trần Văn Minh",
        "team": "customer_care",
        "tier": "L1",
        "skills": {"shipping": 4, "warranty": 3, "general": 4, "technical": 2},
        "languages": ["vi", "en"],
        "capacity": {"chat": 3, "email": 6, "phone": 1, "on_site": 0},
    },
    {
        "agent_id": "emily",
        "name": "Emily Carter",
        "team": "customer_care",
        "tier": "L1",
        "skills": {"billing": 3, "sales": 4, "general": 4, "account": 3},
        "languages": ["en"],
        "capacity": {"chat": 3, "email": 6, "phone": 1, "on_site": 0},
    },
    {
        "agent_id": "huy",
        "name": "Đỗ Quang Huy",
        "team": "technical",
        "tier": "L2",
        "skills": dict.fromkeys(ALL_SKILLS, 4),
        "languages": ["vi", "en"],
        "capacity": {"chat": 2, "email": 5, "phone": 1, "on_site": 0},
    },
    {
        "agent_id": "ha",
        "name": "Phạm Thu Hà",
        "team": "billing",
        "tier": "L3",
        "lead": True,
        "skills": dict.fromkeys(ALL_SKILLS, 5),
        "languages": ["vi", "en"],
        "capacity": {"chat": 2, "email": 4, "phone": 1, "on_site": 0},
    },
    {
        "agent_id": "tuan",
        "name": "Lê Anh Tuấn",
        "team": "field_service",
        "tier": "field",
        "region": "Hà Nội",
        "skills": {"warranty": 4, "field_service": 4, "technical": 3},
        "languages": ["vi"],
        "capacity": {"chat": 0, "email": 0, "phone": 0, "on_site": 2},
    },
    {
        "agent_id": "khoa",
        "name": "Võ Minh Khoa",
        "team": "field_service",
        "tier": "field",
        "region": "TP. Hồ Chí Minh",
        "skills": {"warranty": 4, "field_service": 4, "technical": 3},
        "languages": ["vi"],
        "capacity": {"chat": 0, "email": 0, "phone": 0, "on_site": 2},
    },
]
