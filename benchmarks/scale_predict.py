"""Faces per second of emotion + landmark inference: the single-process path against Ray on this machine.

    python benchmarks/scale_predict.py [--db PATH] [--faces N] [--workers 1,2] [--batch-size 256]
                                       [--small 256] [--skip-local]

The same faces (the warehouse's, 35,887 for FER-2013; --faces takes the first N) through
* the single-process path: `inference.prepare` (whole image) + `predict_faces` in batches, the way
  `predict --whole-image` and the dashboard do it, in this process;
* the Ray engine (`landmarks --engine ray`): a local Ray started once, then one job per worker count,
  each writing its Parquet partitions to a temporary folder.
For Ray it prints the whole job (workers starting, loading TensorFlow and the models, included) and the
steady rate after the first results; then the overhead at a small size (--small faces) for both paths.
Both use the production models.

Other load on the machine slows every wall-clock figure (the load average is printed with each), so each
run also prints faces per CPU-second: this process's CPU time for the single-process path; for Ray, the
model workers' (read from /proc while the job runs: Linux) plus the driver's. That figure does not
depend on what else runs, and times the cores a node has gives what the node can do.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _load() -> str:
    return f"load avg {os.getloadavg()[0]:.1f}"


class WorkerCPU:
    """CPU seconds used by this machine's Ray model workers (processes titled ray::MapWorker...),
    sampled from /proc every half second in a thread while a job runs."""

    def __init__(self) -> None:
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._tick = os.sysconf("SC_CLK_TCK")

    def _sample(self) -> None:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if not f.read(64).startswith(b"ray::MapWorker"):
                        continue
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            seconds = (int(fields[11]) + int(fields[12])) / self._tick  # utime + stime
            self.cpu[int(entry)] = max(self.cpu.get(int(entry), 0.0), seconds)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self._sample()

    def __enter__(self) -> WorkerCPU:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.cpu.values())


def local_rate(faces, models, batch_size: int) -> tuple[float, float, float]:
    """(seconds, faces/s, faces per CPU-second) of the single-process path over `faces` (48x48 arrays)."""
    from faceemo.inference import predict_faces, prepare

    start, cpu = time.perf_counter(), time.process_time()
    done = 0
    for begin in range(0, len(faces), batch_size):
        prepared = [prepare(face, whole_image=True) for face in faces[begin : begin + batch_size]]
        done += sum(len(r) for r in predict_faces(prepared, models, batch_size=batch_size))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return seconds, done / seconds, done / cpu


def ray_run(inputs, models, workers: int, batch_size: int, partition_size: int):
    """The job's summary and its faces per CPU-second (model workers + this driver)."""
    from faceemo.scale import JobOptions, run_job

    with tempfile.TemporaryDirectory(prefix="scale-bench-") as out, WorkerCPU() as sampler:
        options = JobOptions(out=Path(out) / "results", batch_size=batch_size, concurrency=workers,
                             partition_size=partition_size)
        cpu = time.process_time()
        summary = run_job(inputs, models, options)
        cpu = time.process_time() - cpu
    return summary, summary.faces / (sampler.seconds + cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None, help="warehouse (default: $FACEEMO_DB, else the repo's)")
    parser.add_argument("--faces", type=int, default=None, help="the first N faces (default: all)")
    parser.add_argument("--workers", default="1,2", help="Ray worker counts to run (default: 1,2)")
    parser.add_argument("--batch-size", type=int, default=256, help="faces per batch (default: 256)")
    parser.add_argument("--partition-size", type=int, default=4096, help="faces per Parquet file")
    parser.add_argument("--small", type=int, default=256, help="the small size for the overhead (0: skip)")
    parser.add_argument("--skip-local", action="store_true", help="only the Ray runs")
    args = parser.parse_args()

    import numpy as np

    from faceemo import store, warehouse
    from faceemo.inference import load_models
    from faceemo.scale import ray_session, warehouse_inputs

    con = warehouse.connect_readonly(args.db)
    try:
        table = store.scale_faces(con)
    finally:
        con.close()
    if args.faces:
        table = table.slice(0, args.faces)
    n = table.num_rows
    faces = [np.frombuffer(p, np.uint8).reshape(48, 48) for p in table.column("pixels").to_pylist()]
    started = time.perf_counter()
    models = load_models()
    load_seconds = time.perf_counter() - started
    print(
        f"{n:,} faces; models {models.emotion.model_id} + {models.landmarks.model_id}; "
        f"{os.cpu_count()} CPU cores; batch {args.batch_size}; models loaded in {load_seconds:.1f} s"
    )
    local_per_s = None
    if not args.skip_local:
        local_rate(faces[: args.batch_size], models, args.batch_size)  # warm-up (graph tracing)
        print(f"single process ...  ({_load()})", flush=True)
        seconds, local_per_s, per_cpu = local_rate(faces, models, args.batch_size)
        print(f"single process:     {local_per_s:7.0f} faces/s ({seconds:.1f} s; {per_cpu:.0f} faces per "
              f"CPU-second; {_load()})", flush=True)

    started = time.perf_counter()
    with ray_session():
        print(f"ray: local Ray started in {time.perf_counter() - started:.1f} s", flush=True)
        inputs = warehouse_inputs(table)
        rates = {}
        for workers in (int(w) for w in args.workers.split(",")):
            print(f"ray, {workers} worker(s) ...  ({_load()})", flush=True)
            s, per_cpu = ray_run(inputs, models, workers, args.batch_size, args.partition_size)
            steady = s.steady_faces / (s.seconds - s.first_batch_seconds) if s.steady_faces else 0.0
            rates[workers] = s.faces_per_second
            ratio = f", {s.faces_per_second / local_per_s:.2f}x single process" if local_per_s else ""
            print(
                f"ray, {workers} worker(s):  {s.faces_per_second:7.0f} faces/s ({s.seconds:.1f} s, first "
                f"results after {s.first_batch_seconds:.1f} s; steady {steady:.0f} faces/s; {per_cpu:.0f} "
                f"faces per CPU-second; {_load()}){ratio}",
                flush=True,
            )
        if len(rates) > 1:
            low, high = min(rates), max(rates)
            print(f"ray scaling {low} -> {high} workers: {rates[high] / rates[low]:.2f}x")
        if args.small:
            small = table.slice(0, args.small)
            small_faces = faces[: args.small]
            seconds_local, _, _ = local_rate(small_faces, models, args.batch_size)
            s, _ = ray_run(warehouse_inputs(small), models, max(rates), args.batch_size, args.partition_size)
            print(
                f"small ({small.num_rows} faces): single process {seconds_local:.1f} s, ray "
                f"{s.seconds:.1f} s ({max(rates)} worker(s); starting Ray once comes on top) -> Ray's "
                f"overhead ~{s.seconds - seconds_local:.0f} s per job"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
