"""Two processes on CPU (gloo, strategy=ddp): a few steps, one checkpoint.

Lightning's DDP launcher re-runs the command line for the second process, so the run goes
through the `midnet` console script in a subprocess, exactly as a user would start it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml


@pytest.mark.slow
def test_two_process_ddp_on_cpu(tmp_path: Path, tiny_pairs: Path) -> None:
    script = Path(sys.executable).parent / "midnet"
    if not script.exists():
        pytest.skip("the midnet console script is not installed next to the interpreter")
    cfg = {"name": "ddp", "model": {"name": "midnet-tiny"},
           "data": {"root": str(tiny_pairs), "crop_size": 32, "batch_size": 4},
           "train": {"max_steps": 3, "val_every": 3, "log_every": 1, "accelerator": "cpu",
                     "devices": 2, "strategy": "ddp", "progress_bar": False}}
    (tmp_path / "ddp.yaml").write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PL_DISABLE_FORK": "1"}
    proc = subprocess.run([str(script), "train", "--config", str(tmp_path / "ddp.yaml"),
                           "--out", str(tmp_path / "run")], capture_output=True, text=True,
                          timeout=240, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stderr + proc.stdout
    assert "distributed_backend=gloo" in log and "Starting with 2 processes" in log
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["last.ckpt"]
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert ckpt["global_step"] == 3
    assert (tmp_path / "run" / "best.safetensors").is_file()
