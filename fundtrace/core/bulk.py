"""Helpers for bulk parsing: millions of small objects built at once and kept until stored."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector during a bulk parse.

    A parse allocates millions of small acyclic objects that all live until the batch is
    stored; the generational collector would rescan them over and over (about 40% of parse
    time), and reclaim nothing, since reference counting frees them all.

    On the way out they go straight to the oldest generation (``freeze`` then ``unfreeze``
    moves every tracked object there without scanning it): left in the youngest, the first
    allocation after ``enable`` would scan them all once as young objects, which cost a
    fifth of a bulk parse, only to find what they are, long-lived. Skipped when the process
    has frozen objects of its own (``gc.freeze`` before a fork), whose state is not ours.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def slot_fields(*classes: type) -> tuple[tuple[str, ...], ...] | None:
    """The fields of each class when its objects are fully described by them: a slotted
    dataclass whose generated ``__init__`` only stores its arguments (no ``__post_init__``, no
    custom ``__setattr__``, every field an argument, slots in field order).

    The native decoders then allocate objects and fill their slots, which is what ``__init__``
    would do without running bytecode; None tells them to call the classes instead.
    """
    out = []
    for cls in classes:
        names = tuple(f.name for f in dataclasses.fields(cls) if f.init)
        init = cls.__init__
        if (
            len(names) != len(dataclasses.fields(cls))
            or tuple(cls.__dict__.get("__slots__", ())) != names
            or hasattr(cls, "__post_init__")
            or cls.__setattr__ is not object.__setattr__
            or getattr(init, "__qualname__", None) != f"{cls.__qualname__}.__init__"
            or getattr(getattr(init, "__code__", None), "co_filename", None) != "<string>"
        ):
            return None
        out.append(names)
    return tuple(out)
