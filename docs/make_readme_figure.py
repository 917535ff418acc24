"""Write docs/_static/ksweep.png, the k-sweep figure the README shows.

The figure is the one of the k-sweep example (``docs/examples/plot_ksweep.py``), drawn from
the bundled sample: derived data (CNN embeddings and genres), no poster image. Run it from
anywhere::

    .venv/bin/python docs/make_readme_figure.py
"""

import runpy
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

DOCS = Path(__file__).resolve().parent
EXAMPLE = DOCS / "examples" / "plot_ksweep.py"
OUT = DOCS / "_static" / "ksweep.png"


def main(out=OUT, dpi=90):
    namespace = runpy.run_path(str(EXAMPLE), run_name="__main__")
    figure = namespace["display"].figure_
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
