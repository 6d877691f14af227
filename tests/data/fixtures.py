"""Shared by the fixture scripts in this folder (each run as
`python tests/data/<name>.py`, which puts this folder on the import path):
f32 rounding of inputs, one line of values, writing the case file."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def f32(t):
    """`t` rounded to float32 and back: inputs the Rust tests hold exactly."""
    return t.float().double()


def line(t, digits=12):
    """The values of `t`, row-major, on one line."""
    return " ".join(f"{v:.{digits}g}" for v in t.flatten().tolist())


def write(name, lines):
    """Writes `lines` (names and value lines in turn) to `name` here."""
    with open(os.path.join(HERE, name), "w") as f:
        f.write("\n".join(lines) + "\n")
