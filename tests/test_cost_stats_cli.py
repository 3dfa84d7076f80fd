"""`nasdsl stats`: the per-stage table, totals, --plot, cell files and errors."""
from __future__ import annotations

from references import require

from nasdsl.cli.dispatch import main
from nasdsl.ir.cost import cost


def test_stats_table_for_a_zoo_network(capsys):
    assert main(["stats", "nasnet_a_mobile", "--cells"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("network nasnet_a_mobile: 224x224 input, 1000 classes, skeleton nasnet")
    for stage in ("stem", "stage 1", "reduction 1", "stage 2", "reduction 2", "stage 3", "aux head",
                  "classifier"):
        assert f"\n{stage} " in out
    assert "inference (no aux head): 5.29M params, 563.64M mult-adds" in out
    total = cost("nasnet_a_mobile", aux_head=True)
    assert f"{total.params:,}" in out and f"{total.madds:,}" in out
    assert "reduction_cell_1  nasnet_a_reduce" in out


def test_stats_without_aux_head_and_other_pipeline(capsys):
    assert main(["stats", "pnasnet5_mobile", "--no-aux-head", "--passes", "shape,cse,dead-block,cost"]) == 0
    out = capsys.readouterr().out
    assert "aux head" not in out
    assert f"{cost('pnasnet5_mobile').params:,}" in out


def test_stats_of_a_cell_file_uses_the_cifar_network(tmp_path, capsys):
    f = tmp_path / "c.nas"
    f.write_text("cell c : normal {\n b0 = sep3x3(h0) + avg3x3(h1)\n out = concat(unused)\n}\n")
    assert main(["stats", str(f)]) == 0
    assert capsys.readouterr().out.startswith("network c_cifar: 32x32 input, 10 classes")


def test_stats_plot(tmp_path, capsys):
    require("matplotlib")
    out = tmp_path / "stages.png"
    assert main(["stats", "nasnet_a_cifar", "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
    assert f"wrote {out}" in capsys.readouterr().out


def test_stats_errors(tmp_path, capsys):
    assert main(["stats", "nasnet_a_mobil"]) == 2
    assert "did you mean 'nasnet_a_mobile'" in capsys.readouterr().err
    assert main(["stats", "nasnet_a_mobile", "--passes", "cse,cost"]) == 2
    assert "must run shape and then cost" in capsys.readouterr().err
    assert main(["stats", "nasnet_a_mobile", "--passes", "shape,foo,cost"]) == 2  # said as a pipeline before
    assert "unknown pass 'foo'" in capsys.readouterr().err
    assert main(["stats", "nasnet_a_mobile", "--plot", str(tmp_path / "x.txt")]) == 2
    assert "must end in .png" in capsys.readouterr().err
