"""``tools/analysis_tools/equivariance_profile.py`` end to end on the demo SegFormer (Base
config, random init) and a folder of images the test writes: the table, the stages, the
suggested ``softeq`` line naming the unprojected stem, and ``--out`` with every call."""
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.mark.slow
def test_profiles_a_base_config_on_a_folder_of_images(tmp_path):
    import cv2
    rng = np.random.default_rng(0)
    for index in range(2):
        image = (rng.random((40, 50, 3)) * 255).astype(np.uint8)
        cv2.imwrite(str(tmp_path / f'{index}.png'), image)
    out = tmp_path / 'profile.txt'
    result = subprocess.run(
        [sys.executable, 'tools/analysis_tools/equivariance_profile.py',
         'configs/demo/segformer_base_demo.py', '--images', str(tmp_path), '--num-images', '2',
         '--size', '33', '--angles', '90', '22.5', '--top', '4', '--out', str(out),
         '--plot', str(tmp_path / 'profile.png')],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    text = result.stdout
    assert '2 images 33x33, angles [90.0, 22.5], 79 calls' in text
    assert 'end to end' in text and 'stages (mean contribution x100): backbone.layers.0' in text
    assert r"softeq=dict(group='SO2', softness=0.8, include=[r'^backbone\.layers\.0\.0" in text
    assert (tmp_path / 'profile.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    table = out.read_text()
    assert table.count("\n") == 1 + 79 + 2  # header, 79 calls, the glue and end-to-end rows
