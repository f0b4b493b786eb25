"""Draw slots matched to distinct items: can the draws be served together, and which item fills a slot.

Each draw of a blueprint has `count` slots; a slot may take any item of its draw's pool; no item may
fill two slots. Whether every slot can be filled is a maximum bipartite matching (Kuhn's augmenting
paths: a paper has tens of slots and a bank hundreds of items, so the simple algorithm is plenty).

Drawing keeps a complete matching at every step: a slot is *fixed* to a chosen item only if the
remaining slots can still all be filled, which one augmenting path decides. So a random draw never
paints itself into a corner that a blueprint check said was servable.
"""
from __future__ import annotations

from typing import Sequence

__all__ = ["SlotMatching"]


class SlotMatching:
    def __init__(self, counts: Sequence[int], pools: Sequence[Sequence[str]]):
        self.slot_draw = [index for index, count in enumerate(counts) for _ in range(count)]
        self.pools = [list(pool) for pool in pools]
        self.slot_item: list[str | None] = [None] * len(self.slot_draw)
        self.item_slot: dict[str, int] = {}
        self.fixed: set[int] = set()
        for slot in range(len(self.slot_draw)):
            self._augment(slot, set())

    def _augment(self, slot: int, visited: set[str]) -> bool:
        for item in self.pools[self.slot_draw[slot]]:
            if item in visited:
                continue
            visited.add(item)
            owner = self.item_slot.get(item)
            if owner is None or (owner not in self.fixed and self._augment(owner, visited)):
                self.slot_item[slot] = item
                self.item_slot[item] = slot
                return True
        return False

    @property
    def complete(self) -> bool:
        return all(item is not None for item in self.slot_item)

    def shortfall(self) -> list[tuple[int, int]]:
        """(draw index, slots it can fill) for each draw left short by the maximum matching."""
        short = []
        for draw in sorted(set(self.slot_draw)):
            slots = [s for s, d in enumerate(self.slot_draw) if d == draw]
            served = sum(self.slot_item[s] is not None for s in slots)
            if served < len(slots):
                short.append((draw, served))
        return short

    def slots_of(self, draw: int) -> list[int]:
        return [s for s, d in enumerate(self.slot_draw) if d == draw]

    def try_fix(self, slot: int, item: str) -> bool:
        """Fix `slot` to `item` if every other slot can still be filled; else change nothing."""
        if slot in self.fixed or item not in self.pools[self.slot_draw[slot]]:
            return False
        owner = self.item_slot.get(item)
        if owner is not None and owner in self.fixed:
            return False
        saved = (list(self.slot_item), dict(self.item_slot))
        previous = self.slot_item[slot]
        if previous is not None:
            del self.item_slot[previous]
        self.slot_item[slot] = item
        self.item_slot[item] = slot
        self.fixed.add(slot)
        if owner is not None and owner != slot:
            self.slot_item[owner] = None
            if not self._augment(owner, set()):
                self.fixed.discard(slot)
                self.slot_item, self.item_slot = saved
                return False
        return True
