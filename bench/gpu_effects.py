"""Seconds for the audioldm2 effects engine to make five effects in one batched call, without downloading weights.

Builds the cvssp/audioldm2 architecture with random weights (``wave_testing/audioldm2_parts.py``: full size follows the
published checkpoint, 1.1 B parameters, with its unfused CLAP and that CLAP's feature extractor), saves it and
loads it through WAVE's engine (fp16 on CUDA, DPM-Solver multistep, CLAP ranking on the device), then times five
effects. Target on one H100 at full size: 5 effects x 5 s with 2 candidates each in <= 1.5 s warm.

``--tiny --device cpu`` runs the same code path on the tiny test pipeline, so the bench itself is exercised
where there is no GPU (bench/run does that when no CUDA device is present); its figure only says the path works.

    python bench/gpu_effects.py [--tiny] [--device cuda|cpu] [--steps 25] [--seconds 5] [--candidates 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_S = 1.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="the tiny test pipeline instead of the full size")
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--steps", type=int, default=None, help="DPM-Solver steps (default 25; 3 with --tiny)")
    parser.add_argument("--seconds", type=float, default=None, help="effect length (default 5; 0.25 with --tiny)")
    parser.add_argument("--candidates", type=int, default=2, help="waveforms per prompt ranked with CLAP")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs after a warm-up (default 3; 1 tiny)")
    parser.add_argument("--json", action="store_true", help="also print the result as a JSON row (for bench/run)")
    args = parser.parse_args()
    steps = args.steps or (3 if args.tiny else 25)
    seconds = args.seconds or (0.25 if args.tiny else 5.0)
    repeats = args.repeats or (1 if args.tiny else 3)

    try:
        import torch
    except ImportError:
        print("This benchmark needs torch, transformers and diffusers (the models extra).")
        return 2
    on_cuda = args.device == "cuda"
    if on_cuda and not torch.cuda.is_available():
        print("No CUDA device: run with --tiny --device cpu to check the bench here, or on a GPU for figures.")
        return 2
    if not on_cuda:
        torch.set_num_threads(1)
    from pipeline.effects.audioldm2 import AudioLDM2EffectsEngine
    from wave_testing.audioldm2_parts import build_audioldm2, five_variant_sheet

    def sync() -> None:
        if on_cuda:
            torch.cuda.synchronize()

    device_name = torch.cuda.get_device_name(0) if on_cuda else "CPU"
    size = "tiny" if args.tiny else "full-size"
    print(f"device: {device_name}; {size} AudioLDM2")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        model_dir = build_audioldm2(workdir, full_size=not args.tiny, device=args.device)
        parameters = int((model_dir / "PARAMETERS").read_text())
        if on_cuda:
            torch.cuda.empty_cache()
        print(f"built and saved {parameters / 1e9:.3f} B parameters (random weights) in "
              f"{time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        engine = AudioLDM2EffectsEngine(
            model_id=str(model_dir), device=args.device, steps=steps, seconds=seconds,
            waveforms_per_prompt=args.candidates, effects_cache_dir=None,
        ).load()
        print(f"load through the engine: {time.perf_counter() - started:.1f} s")
        times = []
        for run in range(repeats + 1):  # the first run warms up kernels and is not counted
            sync()
            started = time.perf_counter()
            engine.generate(five_variant_sheet(), workdir / f"out-{run}", seed=run)
            sync()
            elapsed = time.perf_counter() - started
            print(f"run {run}{' (warm-up)' if run == 0 else ''}: {elapsed:.2f} s")
            if run:
                times.append(elapsed)
        ranked = engine.pipe.last_scores is not None and tuple(engine.pipe.last_scores.shape) == (5, args.candidates)
        best, median = min(times), sorted(times)[len(times) // 2]
        peak = torch.cuda.max_memory_allocated() / 2**30 if on_cuda else None
        memory = f"; peak GPU memory {peak:.1f} GiB" if peak is not None else ""
        print(f"5 effects x {seconds:g} s, {args.candidates} candidates each (CLAP ranked: {ranked}), {steps} "
              f"DPM-Solver steps, one batched call: median {median:.2f} s, best {best:.2f} s{memory}")
        meets = median <= TARGET_S if not args.tiny else None
        if args.json:
            note = f"{device_name}, {size}, {steps} steps, {args.candidates} candidates" + (
                f", peak {peak:.1f} GiB" if peak is not None else "")
            print(json.dumps({
                "measure": f"audioldm2 ({size}), 5 effects x {seconds:g} s", "wave": round(median, 3),
                "reference": TARGET_S if not args.tiny else None,
                "ratio": round(TARGET_S / median, 2) if not args.tiny else None,
                "target": f"<= {TARGET_S:g} s (H100, full size)" if not args.tiny else "runs (tiny model, no target)",
                "unit": "s", "note": note, "ok": meets if meets is not None else ranked,
            }))
        if not ranked and args.candidates > 1:
            print("CLAP ranking did not run")
            return 1
        return 0 if meets in (None, True) else 1


if __name__ == "__main__":
    raise SystemExit(main())
