#!/usr/bin/python3
"""Compare flows written by flowkit-collect (JSON lines) with ground truth
(collect_pcap.py output) and optionally with `nfdump -o csv` output.
Usage: collect_compare.py TRUTH FLOWKIT_JSONL [--nfdump CSV] [--time-tol-ms N]
       [--times direction|conversation|none] [--version V]
Exits 1 with a listing of differences."""
import argparse
import datetime
import json
import sys


def ms(text):
    d = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return round(d.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def key(r):
    return (r["src_addr"], r["dst_addr"], int(r["src_port"]), int(r["dst_port"]), int(r["proto"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("truth")
    ap.add_argument("flows")
    ap.add_argument("--nfdump")
    ap.add_argument("--time-tol-ms", type=int, default=1)
    ap.add_argument("--times", default="conversation")
    ap.add_argument("--version", type=int)
    a = ap.parse_args()
    truth = {key(r): r for r in map(json.loads, open(a.truth))}
    flows = {}
    errors = []
    for line in open(a.flows):
        r = json.loads(line)
        if r.get("type") != "flow":
            errors.append("not a flow: " + line.strip())
            continue
        k = key(r)
        if k in flows:
            # An exporter may split a flow; add the pieces up.
            f = flows[k]
            f["bytes"] += r["bytes"]
            f["packets"] += r["packets"]
            f["start"] = min(f["start"], ms(r["start"]))
            f["end"] = max(f["end"], ms(r["end"]))
        else:
            flows[k] = {"bytes": r["bytes"], "packets": r["packets"], "start": ms(r["start"]),
                        "end": ms(r["end"]), "version": r["version"], "exporter": r["exporter"]}
    for k, t in truth.items():
        f = flows.get(k)
        if not f:
            errors.append("missing flow %s" % (k,))
            continue
        if (f["bytes"], f["packets"]) != (t["bytes"], t["packets"]):
            errors.append("%s: bytes/packets %s/%s, truth %s/%s" % (k, f["bytes"], f["packets"],
                                                                 t["bytes"], t["packets"]))
        if a.version is not None and f["version"] != a.version:
            errors.append("%s: version %s, want %s" % (k, f["version"], a.version))
        if f["exporter"] != "127.0.0.1":
            errors.append("%s: exporter %s" % (k, f["exporter"]))
        if a.times != "none":
            s = t["conv_start_ms"] if a.times == "conversation" else t["start_ms"]
            e = t["conv_end_ms"] if a.times == "conversation" else t["end_ms"]
            if abs(f["start"] - s) > a.time_tol_ms or abs(f["end"] - e) > a.time_tol_ms:
                errors.append("%s: start/end %s/%s, truth %s/%s" % (k, f["start"], f["end"], s, e))
    for k in flows:
        if k not in truth:
            errors.append("unexpected flow %s" % (k,))
    if a.nfdump:
        lines = [l.strip() for l in open(a.nfdump) if l.strip()]
        hdr = lines[0].split(",")
        col = {n: i for i, n in enumerate(hdr)}
        nf = {}
        protos = {"TCP": 6, "UDP": 17, "ICMP": 1}
        for l in lines[1:]:
            c = [x.strip() for x in l.split(",")]
            if len(c) < len(hdr):
                continue
            pr = c[col["pr"]]
            pr = protos.get(pr, int(pr) if pr.isdigit() else pr)
            k = (c[col["sa"]], c[col["da"]], int(c[col["sp"]]), int(c[col["dp"]]), pr)
            b, p = nf.get(k, (0, 0))
            nf[k] = (b + int(c[col["ibyt"]]), p + int(c[col["ipkt"]]))
        mine = {k: (f["bytes"], f["packets"]) for k, f in flows.items()}
        if nf != mine:
            for k in sorted(set(nf) | set(mine), key=str):
                if nf.get(k) != mine.get(k):
                    errors.append("vs nfdump %s: flowkit %s, nfdump %s" % (k, mine.get(k),
                                                                          nf.get(k)))
    if errors:
        print("\n".join(errors))
        sys.exit(1)
    print("ok: %d flows match" % len(truth) + (" and nfdump" if a.nfdump else ""))


if __name__ == "__main__":
    main()
