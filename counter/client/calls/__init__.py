"""Typed calls, one mixin per area of ``counter.wire.api``; ``CounterClient`` has them all."""
