#!/usr/bin/env python3
"""Where a metaconform run's requests and time go against real Nova.

Used by benches/nova-peer.sh; stdlib only. Reads one `metaconform run`'s
results.json and the slice of Nova's log that run produced (the eventlet
access log: one line a compute API request, with Nova's own service time),
and prints the totals against the measured plain GET rate plus breakdowns:

  - requests by purpose (setup / step / read-back / cleanup), from results.json
  - requests by method + path shape (server ids -> {id}, metadata keys ->
    {key}, actions by name), split by purpose
  - server polls (GET /servers/{id} after an action): busy answers (a task
    still running) against the final settled one
  - metadata resets (replace-all {} in setup), how many a seed write follows,
    and (jobs 1 only: cases in execution order) how many find the map the
    previous case last read, untouched since, equal to their seed
  - with BASELINE_REQUESTS: wall against a fixed request count (a past
    run's), so that sending fewer requests shows as a gain
  - what results.json does not record (prop::* trials, preflight, journal
    snapshot and put-back, the workers' baseline), from Nova's log
  - time: the sum of exchange times against the cases' wall time, i.e. how
    long cases sat idle (poll back-off sleeps, client overhead)

usage: nova-peer-report.py RESULTS NOVA_LOG LOG_START LOG_END WALL_S GET_RATE [JOBS [BASELINE_REQUESTS]]
"""

import collections
import datetime as dt
import json
import re
import sys

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ACCESS = re.compile(
    r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO \[eventlet\.wsgi\.server\] \S+ - - \[[^]]*\] '
    r'"(\S+) (\S+) HTTP/[\d.]+" (\d{3}) \d+ ([\d.]+)'
)
PURPOSES = ["setup", "step", "read-back", "cleanup"]


def shape(method, url, body=""):
    """`GET /servers/{id}/metadata/{key}`-like: ids, keys and queries folded."""
    path = re.sub(r"^https?://[^/]+", "", url)
    path, _, query = path.partition("?")
    path = re.sub(r"^/v2(\.1)?(/[0-9a-f]{32})?", "", path)
    path = UUID.sub("{id}", path)
    path = path.replace("/not-a-uuid", "/{id}")
    path = re.sub(r"(/metadata)/.+$", r"\1/{key}", path)
    if path.startswith("/servers/{id}/action") and body:
        try:
            name = next(iter(json.loads(body)))
        except (ValueError, StopIteration, TypeError):
            name = "?"
        path += f" [{name}]"
    if query:
        path += "?…"
    return f"{method} {path}"


def table(title, counter, total, limit=None, extra=None):
    print(f"  {title}")
    rows = counter.most_common(limit)
    for key, n in rows:
        more = f"  {extra(key)}" if extra else ""
        print(f"    {n:6d}  {100.0 * n / total:5.1f}%  {key}{more}")
    rest = sum(counter.values()) - sum(n for _, n in rows)
    if rest:
        print(f"    {rest:6d}  {100.0 * rest / total:5.1f}%  (other shapes)")


def unpack(results):
    """results.json format 2 (src/run/stored.rs) back to plain exchanges:
    header indices resolved, shared bodies joined, URLs made absolute."""
    table = results.get("headers", [])
    bodies = results.get("bodies", {})
    endpoint = results["run"]["endpoint"]

    def text(message, key):
        ref = message.get(key + "_ref")
        if ref is None:
            return message.get(key, "")
        return "".join(
            seg["text"] if "text" in seg else seg["repeat"]["char"] * seg["repeat"]["times"]
            for seg in bodies[ref]
        )

    for case in results["cases"]:
        for e in case["exchanges"]:
            for message in filter(None, (e["request"], e.get("response"))):
                message["headers"] = [table[i] for i in message["headers"]]
                message["body"] = text(message, "body")
            url = e["request"]["url"]
            if url.startswith("/"):
                e["request"]["url"] = endpoint + url
    return results


def task_state(exchange):
    response = exchange.get("response") or {}
    try:
        server = json.loads(response.get("body") or "")["server"]
    except (ValueError, KeyError, TypeError):
        return "?"
    return server.get("OS-EXT-STS:task_state")


def is_show(exchange):
    return shape(exchange["request"]["method"], exchange["request"]["url"]) == "GET /servers/{id}"


def is_reset(exchange):
    req = exchange["request"]
    return (
        exchange["purpose"] == "setup"
        and req["method"] == "PUT"
        and shape("PUT", req["url"]) == "PUT /servers/{id}/metadata"
        and req["body"].replace(" ", "") == '{"metadata":{}}'
    )


def nova_log(path, start, end):
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(end - start).decode("utf-8", "replace")
    lines = []
    for line in data.splitlines():
        m = ACCESS.match(line)
        if m:
            when = dt.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
            lines.append((when, m.group(2), m.group(3), int(m.group(4)), float(m.group(5))))
    return lines


def main():
    results_path, log_path = sys.argv[1], sys.argv[2]
    start, end = int(sys.argv[3]), int(sys.argv[4])
    wall, rate = float(sys.argv[5]), float(sys.argv[6])
    jobs = int(sys.argv[7]) if len(sys.argv) > 7 else None
    baseline = int(sys.argv[8]) if len(sys.argv) > 8 and sys.argv[8] else None
    results = unpack(json.load(open(results_path)))
    cases = results["cases"]
    exchanges = [(c, e) for c in cases for e in c["exchanges"]]
    recorded = len(exchanges)
    log = nova_log(log_path, start, end)
    seen = len(log)
    nova_busy = sum(r[4] for r in log)

    print(f"  requests sent (Nova's access log):    {seen}")
    print(f"    of which in results.json:           {recorded}")
    print(f"    not recorded (prop::*, preflight, journal, baseline): {seen - recorded}")
    print(f"  ideal time = {seen} / {rate:.1f} req/s:   {seen / rate:7.1f} s")
    print(f"  wall time:                            {wall:7.1f} s")
    print(f"  ratio wall / ideal:                   {wall / (seen / rate):7.2f}   (target <= 1.5)")
    if baseline:
        print(
            f"  ratio wall / (baseline {baseline} requests / rate): {wall / (baseline / rate):5.2f}"
            f"   (fewer requests count as much as faster ones)"
        )
    print(
        f"  Nova busy (sum of its service times): {nova_busy:7.1f} s"
        f"  (mean {1000 * nova_busy / max(seen, 1):.1f} ms a request; plain GET {1000 / rate:.1f} ms)"
    )
    print()

    # --- by purpose -------------------------------------------------------
    by_purpose = collections.Counter(e["purpose"] for _, e in exchanges)
    ms_purpose = collections.Counter()
    for _, e in exchanges:
        ms_purpose[e["purpose"]] += e["elapsed_ms"]
    ran = [c for c in cases if c["verdict"] != "skip" and c["area"] != "prop"]
    print(f"  by purpose (results.json; {len(ran)} cases ran, {recorded / max(len(ran), 1):.2f} requests a case)")
    for p in PURPOSES:
        n = by_purpose.get(p, 0)
        print(
            f"    {p:10s} {n:6d}  {100.0 * n / max(recorded, 1):5.1f}%"
            f"   {ms_purpose[p] / 1000:7.1f} s in flight"
        )
    print()

    cost = collections.defaultdict(list)
    for _, e in exchanges:
        s = shape(e["request"]["method"], e["request"]["url"], e["request"]["body"])
        if s.startswith("POST /servers/{id}/action"):
            s = "POST /servers/{id}/action"
        cost[("reset" if is_reset(e) else e["purpose"], s)].append(e["elapsed_ms"])
    print("  client-side time by purpose + shape (top 12 by total)")
    for (p, s), v in sorted(cost.items(), key=lambda kv: -sum(kv[1]))[:12]:
        print(f"    {len(v):6d}  {sum(v) / 1000:6.1f} s  mean {sum(v) / len(v):6.1f} ms  {p:9s} {s}")
    print()

    # --- by shape ---------------------------------------------------------
    shapes = collections.Counter()
    shape_purpose = collections.defaultdict(collections.Counter)
    for _, e in exchanges:
        s = shape(e["request"]["method"], e["request"]["url"], e["request"]["body"])
        shapes[s] += 1
        shape_purpose[s][e["purpose"]] += 1

    def split(s):
        return " ".join(f"{p}={n}" for p, n in shape_purpose[s].most_common())

    table("by method + path shape (results.json)", shapes, max(recorded, 1), 25, split)
    print()

    # --- polls ----------------------------------------------------------------
    shows = [e for _, e in exchanges if is_show(e)]
    busy = [e for e in shows if task_state(e) not in (None, "?")]
    poll_ms = sum(e["elapsed_ms"] for e in shows)
    actions = [
        e for _, e in exchanges
        if e["request"]["method"] == "POST" and "/action" in e["request"]["url"]
        and e.get("response") and 200 <= e["response"]["status"] < 300
    ]
    print(
        f"  GET /servers/{{id}}: {len(shows)} ({poll_ms / 1000:.1f} s in flight); "
        f"{len(busy)} answered with a task still running; "
        f"{len(actions)} accepted server actions ({len(shows) / max(len(actions), 1):.2f} shows an action)"
    )
    per_action = collections.Counter()
    polls_after = collections.Counter()
    for c in cases:
        current = None
        for e in c["exchanges"]:
            s = shape(e["request"]["method"], e["request"]["url"], e["request"]["body"])
            if "[" in s and e.get("response") and 200 <= e["response"]["status"] < 300:
                current = s.split("[")[1].rstrip("]")
                per_action[current] += 1
            elif s == "GET /servers/{id}" and current:
                polls_after[current] += 1
    first = first_busy = 0
    for c in cases:
        ex = c["exchanges"]
        for i, e in enumerate(ex[:-1]):
            s = shape(e["request"]["method"], e["request"]["url"], e["request"]["body"])
            if "[" in s and e.get("response") and 200 <= e["response"]["status"] < 300 and is_show(ex[i + 1]):
                first += 1
                first_busy += task_state(ex[i + 1]) not in (None, "?")
    print(f"    the show right after an accepted action found a task running: {first_busy} of {first}")
    print("    shows per accepted action, by action (until the next action of the case):")
    for name, n in per_action.most_common():
        print(f"      {name:16s} {n:4d} accepted  {polls_after[name] / n:5.2f} shows each")
    print()

    # --- resets ---------------------------------------------------------------
    resets = [(c, e) for c, e in exchanges if is_reset(e)]
    seeds = sum(
        1 for c in cases
        for i, e in enumerate(c["exchanges"])
        if is_reset(e) and i + 1 < len(c["exchanges"])
        and c["exchanges"][i + 1]["purpose"] == "setup"
        and c["exchanges"][i + 1]["request"]["method"] in ("POST", "PUT")
        and "/metadata" in c["exchanges"][i + 1]["request"]["url"]
    )
    print(f"  metadata resets (PUT /metadata {{}} in setup): {len(resets)}; followed by a seed write: {seeds}")
    if jobs == 1:
        # One worker: results.json is in execution order on one server.
        # The map the previous case last saw (a read-back or list answer
        # with no write after it) against this case's seed.
        same, differ, unknown = 0, 0, 0
        known = None
        for c in cases:
            if c["area"] == "prop" or not c["exchanges"]:
                continue
            ex = c["exchanges"]
            if any(is_reset(e) for e in ex):
                seed = {}
                for i, e in enumerate(ex):
                    if is_reset(e) and i + 1 < len(ex) and ex[i + 1]["purpose"] == "setup" \
                            and ex[i + 1]["request"]["method"] in ("POST", "PUT") \
                            and "/metadata" in ex[i + 1]["request"]["url"]:
                        seed = json.loads(ex[i + 1]["request"]["body"]).get("metadata", {})
                if known is None:
                    unknown += 1
                elif known == seed:
                    same += 1
                else:
                    differ += 1
            known = None
            for e in ex:
                resp = e.get("response")
                s = shape(e["request"]["method"], e["request"]["url"], e["request"]["body"])
                if s == "GET /servers/{id}/metadata" and resp and resp["status"] == 200:
                    try:
                        known = json.loads(resp["body"])["metadata"]
                    except (ValueError, KeyError):
                        known = None
                elif (e["request"]["method"] != "GET" and "/metadata" in s) or "[rebuild]" in s:
                    known = None  # any write, answered or not, may have changed it
        print(
            f"    the previous case's last GET /metadata (no write after it) = this case's seed: {same}; "
            f"differs: {differ}; not known: {unknown}"
        )
    print()

    # --- read-backs -----------------------------------------------------------
    after = collections.Counter()
    for c in cases:
        prev = None
        for e in c["exchanges"]:
            if e["purpose"] == "read-back" and prev is not None:
                req, resp = prev["request"], prev.get("response")
                status = resp["status"] if resp else "none"
                klass = "2xx" if isinstance(status, int) and 200 <= status < 300 else "non-2xx"
                after[f"{shape(req['method'], req['url'], req['body'])} -> {klass}"] += 1
            if e["purpose"] == "step":
                prev = e
    table("read-backs by the step before them", after, max(sum(after.values()), 1), 12)
    print()

    # --- time -----------------------------------------------------------------
    def serial(c):  # no concurrent fan-out: exchanges one after another
        return c["area"] != "prop" and not c["id"].startswith("concurrent.")
    case_ms = sum(c["duration_ms"] for c in cases if serial(c))
    flight_ms = sum(e["elapsed_ms"] for c in cases if serial(c) for e in c["exchanges"])
    prop_ms = sum(c["duration_ms"] for c in cases if c["area"] == "prop")
    print(
        f"  time (cases without a concurrent fan-out): {case_ms / 1000:.1f} s summed over workers; requests in flight {flight_ms / 1000:.1f} s; "
        f"idle inside cases (poll sleeps, client) {(case_ms - flight_ms) / 1000:.1f} s"
    )
    idle = collections.Counter()
    for c in cases:
        if not serial(c):
            continue
        gap = max(0.0, c["duration_ms"] - sum(e["elapsed_ms"] for e in c["exchanges"]))
        idle[c["id"].split(".")[0]] += gap / 1000
    print("    idle by case family (s): " + ", ".join(f"{k} {v:.1f}" for k, v in idle.most_common(8)))
    by_family = collections.Counter()
    for c in cases:
        by_family[c["id"].split(".")[0] if c["area"] != "prop" else c["id"]] += c["duration_ms"] / 1000
    print("    wall by case family (s, summed over workers): " + ", ".join(f"{k} {v:.1f}" for k, v in by_family.most_common(10)))

    # prop::* trials: after every case; their requests are only in Nova's log.
    if prop_ms and log:
        started = dt.datetime.strptime(results["run"]["started_at"][:26], "%Y-%m-%dT%H:%M:%S.%f")
        trials_from = started + dt.timedelta(milliseconds=results["run"]["duration_ms"] - prop_ms)
        trial_lines = [r for r in log if r[0] >= trials_from]
        trial_shapes = collections.Counter(shape(r[1], r[2]) for r in trial_lines)
        print(
            f"  prop::* trials: {prop_ms / 1000:.1f} s, about {len(trial_lines)} requests "
            f"(Nova's log after {trials_from.time()}, includes the journal put-back) = "
            f"{len(trial_lines) / (prop_ms / 1000):.1f} req/s"
        )
        table("prop::* requests by shape (Nova's log)", trial_shapes, max(len(trial_lines), 1), 8)
    print()
    log_shapes = collections.Counter(shape(r[1], r[2]) for r in log)
    log_secs = collections.Counter()
    for r in log:
        log_secs[shape(r[1], r[2])] += r[4]
    table(
        "all requests by shape (Nova's log; actions not split by name), with Nova's service time",
        log_shapes, max(seen, 1), 12,
        lambda s: f"  {log_secs[s]:6.1f} s, mean {1000 * log_secs[s] / log_shapes[s]:6.1f} ms",
    )


if __name__ == "__main__":
    main()
