"""Agreement of two models clip by clip, from the report.json files `cargo xtask eval` wrote for
each on the same clips: top-1 agreement, the largest probability difference, and each model's
accuracy and macro-F1 as eval scored them. Prints one JSON line.

Usage: python tools/quantize/compare_reports.py reports/float/report.json reports/int8/report.json
"""
import json
import sys


def main():
    a, b = (json.load(open(path)) for path in sys.argv[1:3])
    pa = {p["path"]: p for p in a["predictions"]}
    pb = {p["path"]: p for p in b["predictions"]}
    common = sorted(pa.keys() & pb.keys())
    agree = sum(pa[k]["predicted"] == pb[k]["predicted"] for k in common)
    max_diff = max(
        (abs(x - y) for k in common for x, y in zip(pa[k]["probabilities"], pb[k]["probabilities"])),
        default=0.0,
    )
    print(json.dumps({
        "clips": len(common),
        "top1_agreement": agree / max(1, len(common)),
        "max_probability_difference": max_diff,
        "accuracy": [a["accuracy"], b["accuracy"]],
        "macro_f1": [a["macro_f1"], b["macro_f1"]],
    }))


if __name__ == "__main__":
    main()
