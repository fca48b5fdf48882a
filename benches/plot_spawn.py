#!/usr/bin/env python3
"""Plots the spawn benchmark: latency against the parent's resident memory, one line per method
(log-log), thread create + join beside it, and vinit's launch overhead (when measured). Input: the JSON of `cargo bench --bench spawn`;
output: a PNG. Used by scripts/bench.

usage: plot_spawn.py SPAWN.json OUT.png
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

STYLE = {
    "vspawn": dict(color="#d62728", marker="o", linewidth=2.6),
    "vspawn_vfork": dict(color="#ff9896", marker="v", linestyle="--"),
    "glibc_posix_spawn": dict(color="#1f77b4", marker="s", linewidth=2.0),
    "glibc_fork": dict(color="#7f7f7f", marker="D"),
    "glibc_vfork": dict(color="#2ca02c", marker="^", linestyle="--"),
    "std_command": dict(color="#9467bd", marker="P"),
}


def mib(x, _pos):
    return f"{x / 1024:g} GiB" if x >= 1024 else f"{x:g} MiB"


def micros(y, _pos):
    return f"{y / 1000:g} ms" if y >= 1000 else f"{y:g} µs"


def main():
    src, out = sys.argv[1], sys.argv[2]
    with open(src) as f:
        data = json.load(f)
    labels = {m["id"]: m["label"] for m in data["methods"]}
    sizes = data["sizes"]
    xs = [s["bytes"] / (1 << 20) for s in sizes]
    lines = {}
    for method in labels:
        ys = [s["results"].get(method, {}).get("median_us") for s in sizes]
        if all(y is not None for y in ys):
            lines[method] = ys

    launch = data.get("vinit_launch")
    widths = [2.3, 1.5, 1.1] + ([0.75] if launch else [])
    fig, axes = plt.subplots(
        1, len(widths), figsize=(16 + 3.2 * bool(launch), 6.2),
        gridspec_kw={"width_ratios": widths}, layout="constrained",
    )
    ax, zx, bx = axes[:3]
    # All methods, log-log: fork against the rest.
    for method, ys in lines.items():
        last = f"{ys[-1]:.0f} µs" if ys[-1] < 1000 else f"{ys[-1] / 1000:.0f} ms"
        ax.plot(xs, ys, label=f"{labels[method]} ({last} at {sizes[-1]['label']})",
                **STYLE.get(method, {}))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(xs)
    ax.set_xticklabels([s["label"] for s in sizes])
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda *_: ""))
    ax.yaxis.set_major_formatter(FuncFormatter(micros))
    ax.set_xlim(xs[0] / 1.6, xs[-1] * 1.6)
    ax.set_xlabel("parent's resident memory (every page written, 4 KiB pages)")
    ax.set_ylabel("spawn + wait of a static `true`, median")
    ax.set_title("Spawn latency against parent memory (log-log)")
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", axis="y", alpha=0.12)
    ax.legend(loc="upper left", fontsize=8.5)

    # The methods that do not copy the parent, on a linear scale, with ratios to posix_spawn.
    base = lines.get(data.get("baseline", ""))
    near = {m: ys for m, ys in lines.items() if max(ys) < 20 * min(min(v) for v in lines.values())}
    for method, ys in near.items():
        zx.plot(xs, ys, **STYLE.get(method, {}))
    top = max(max(ys) for ys in near.values()) if near else 1
    # Labels at the right end, pushed apart where the lines meet.
    gap, prev = top * 0.045, None
    for method, ys in sorted(near.items(), key=lambda kv: kv[1][-1]):
        y = ys[-1] if prev is None else max(ys[-1], prev + gap)
        prev = y
        ratio = f" ({ys[-1] / base[-1]:.2f}×)" if base else ""
        zx.annotate(f"{ys[-1]:.0f}{ratio}", (xs[-1] * 1.15, y), va="center", fontsize=8.5,
                    color=STYLE.get(method, {}).get("color", "black"))
    zx.set_xscale("log")
    zx.set_xticks(xs)
    zx.set_xticklabels([s["label"] for s in sizes])
    zx.xaxis.set_minor_formatter(FuncFormatter(lambda *_: ""))
    zx.set_xlim(xs[0] / 1.6, xs[-1] * 4.5)
    zx.set_ylim(0, top * 1.2)
    zx.set_ylabel("median µs (ratio to glibc posix_spawn at the right)")
    zx.set_title("Zoom: without fork (linear)")
    zx.grid(True, alpha=0.35)

    threads = data.get("threads", {})
    if threads:
        names = list(threads)
        values = [threads[n]["median_us"] for n in names]
        colors = ["#d62728" if n.startswith("vspawn") else "#9467bd" for n in names]
        bars = bx.bar(range(len(names)), values, color=colors)
        for i, n in enumerate(names):
            if "stack" in n:
                bars[i].set_alpha(0.45)
        bx.set_xticks(range(len(names)))
        bx.set_xticklabels(
            [threads[n].get("label", n).replace(" (", "\n(").replace("::", "::\n", 1) for n in names],
            fontsize=8,
        )
        for i, v in enumerate(values):
            bx.annotate(f"{v:.1f} µs", (i, v), xytext=(0, 3), textcoords="offset points",
                        ha="center", fontsize=9)
        bx.set_ylabel("median µs")
        bx.set_title("Thread create + join")
        bx.set_ylim(0, max(values) * 1.2)
        bx.grid(True, axis="y", alpha=0.35)
    else:
        bx.axis("off")

    if launch:
        vx = axes[3]
        values = [launch["direct"]["median_us"], launch["via_vinit"]["median_us"]]
        vx.bar([0, 1], values, color=["#d62728", "#e377c2"], width=0.6)
        vx.set_xticks([0, 1])
        vx.set_xticklabels(["true", "vinit -s --\ntrue"], fontsize=8.5)
        for i, v in enumerate(values):
            vx.annotate(f"{v:.0f} µs", (i, v), xytext=(0, 3), textcoords="offset points",
                        ha="center", fontsize=9)
        top = max(values) * 1.3
        vx.annotate(
            f"+{launch['difference_us']:.0f} µs\n({launch['ratio']:.2f}×)",
            (0.5, (values[0] + values[1]) / 2), ha="center", va="center", fontsize=9.5,
            fontweight="bold", color="#8c2d6e",
        )
        vx.set_ylim(0, top)
        vx.set_xlabel("parent without ballast")
        vx.set_ylabel("spawn + wait, median µs")
        vx.set_title("vinit launch overhead")
        vx.grid(True, axis="y", alpha=0.35)

    m = data.get("machine", {})
    fig.suptitle(
        f"vspawn benchmarks — {m.get('cpus', '?')} CPUs, Linux {m.get('kernel', '?')}, "
        f"glibc {m.get('glibc', '?')}, load average {m.get('load_before', '?')}",
        fontsize=10,
        color="#555555",
    )
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
