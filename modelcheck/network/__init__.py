"""The delivery modes: one module per mode, one registry.

`MODES` maps the word after `delivery` in a `network { }` block to the mode's class
(see base.DeliveryMode for the interface and the facts reductions rely on). To add
a mode: a module here with a DeliveryMode subclass, an entry below, and its line in
the `delivery_mode` rule of grammar/ha.lark.
"""
from __future__ import annotations

from .base import DeliveryMode, Message, msg_key
from .fifo import Fifo
from .message_set import MessageSet
from .unordered import Unordered

MODES: dict[str, type[DeliveryMode]] = {m.name: m for m in (Unordered, Fifo, MessageSet)}

__all__ = ["MODES", "DeliveryMode", "Message", "msg_key"]
