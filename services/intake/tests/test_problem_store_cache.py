"""The open problems every new ticket is matched against are read at most once a second,
and a change made through the same store is seen at once."""

from typing import Any

from s8_intake.adapters.problem_store import ProblemStore
from s8_intake.domain import problems as p
from s8_shared.contracts.problems import ProblemDeclaration, ProblemSnapshot
from s8_testing.builders import T0


def snapshot(problem_id: str) -> ProblemSnapshot:
    declaration = ProblemDeclaration.model_validate(
        {
            "title": {"vi": "Cổng thanh toán gián đoạn"},
            "description": {"vi": "Thanh toán thẻ lỗi."},
            "segment": {"regions": ["Hà Nội"]},
            "keywords": ["thanh toán"],
            "declared_by": "lead-1",
        }
    )
    return p.declare(declaration, problem_id, T0)


class Cursor:
    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = docs

    def __aiter__(self) -> "Cursor":
        return self

    async def __anext__(self) -> dict[str, Any]:
        if not self.docs:
            raise StopAsyncIteration
        return self.docs.pop(0)


class Collection:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.finds = 0
        self.during_find: Any = None  # a write another task makes while a read is under way

    def find(self, query: dict[str, Any]) -> Cursor:
        self.finds += 1
        found = [d for d in self.docs.values() if d["status"] != "resolved"]
        if self.during_find is not None:
            self.during_find()
            self.during_find = None
        return Cursor(found)

    async def insert_one(self, doc: dict[str, Any]) -> None:
        self.docs[doc["_id"]] = doc


class Store:
    def __init__(self) -> None:
        self.collections: dict[str, Collection] = {}

    def collection(self, name: str) -> Collection:
        return self.collections.setdefault(name, Collection())


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_store() -> tuple[ProblemStore, Collection, Clock]:
    store, clock = Store(), Clock()
    problems = ProblemStore(store, monotonic=clock)  # type: ignore[arg-type]
    return problems, store.collections["problems"], clock


async def test_open_problems_are_read_once_within_a_second() -> None:
    problems, collection, clock = make_store()
    await problems.insert(snapshot("P-1"), "declare:P-1", [])
    assert [x.problem_id for x in await problems.open_problems()] == ["P-1"]
    clock.now += 0.5
    assert [x.problem_id for x in await problems.open_problems()] == ["P-1"]
    assert collection.finds == 1
    clock.now += 0.6
    await problems.open_problems()
    assert collection.finds == 2


async def test_a_problem_declared_through_the_store_is_matched_at_once() -> None:
    problems, collection, _ = make_store()
    assert await problems.open_problems() == []
    await problems.insert(snapshot("P-2"), "declare:P-2", [])
    assert [x.problem_id for x in await problems.open_problems()] == ["P-2"]
    assert collection.finds == 2


async def test_a_read_that_a_change_raced_is_not_kept() -> None:
    problems, collection, _ = make_store()
    collection.during_find = problems._changed  # a declaration lands while reading
    await problems.open_problems()
    await problems.open_problems()
    assert collection.finds == 2
