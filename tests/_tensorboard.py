"""Read scalars back from TensorBoard event files (TFRecord framing + tensorboardX's protos)."""

from __future__ import annotations

from pathlib import Path


def scalars(folder: Path) -> list[tuple[str, int, float]]:
    """(tag, step, value) of every scalar in the event files under ``folder``."""
    from tensorboardX.proto import event_pb2

    found = []
    for path in sorted(folder.rglob("events.out.tfevents.*")):
        data = path.read_bytes()
        pos = 0
        while pos < len(data):  # TFRecord: length (8), crc (4), payload, crc (4)
            length = int.from_bytes(data[pos : pos + 8], "little")
            payload = data[pos + 12 : pos + 12 + length]
            pos += 12 + length + 4
            event = event_pb2.Event.FromString(payload)
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    found.append((value.tag, event.step, value.simple_value))
    return found
