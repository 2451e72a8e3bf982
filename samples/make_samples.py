"""Write the committed sample PDFs: the seed report in three layouts and a 自评表 (self-evaluation table).

Run from anywhere: `.venv/bin/python samples/make_samples.py`. The seed is read from the shared folder when
it is there and copied to samples/seed.txt, so the samples can be rebuilt without it. The PDFs are drawn
with reportlab's invariant mode: rebuilding changes no byte unless the drawing code changed.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # a script, not an installed package: find `pipeline` beside it

from pipeline.synth import Block, blocks_from_text, render_pdf, seed_text  # noqa: E402

UNIT = "望城区机关事务中心"


def selfeval_blocks() -> list[Block]:
    """The seed unit's 部门整体支出绩效自评表, with the seed's own budget figures (万元).

    Modelled on the form units fill in: one ruled table, budget execution on top, the overall goal, then
    the indicator rows with 一级/二级指标 merged down the rows they group.
    """
    rows = [
        ["部门（单位）名称", UNIT, "", "", "", "", "", ""],
        ["年度预算执行情况（万元）", "", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
        ["年度资金总额", "", "4526.69", "4526.69", "5017.13", "10", "110.83%", "10"],
        ["其中：基本支出", "", "828.69", "828.69", "959.98", "—", "115.84%", "—"],
        ["项目支出", "", "3698", "3698", "4057.15", "—", "109.71%", "—"],
        ["年度总体目标", "预期目标", "", "", "", "实际完成情况", "", ""],
        ["", "保障行政中心安全、高效运转，满意度90%以上；保障公务用车安全高效运转。", "", "", "",
         "基本达成年度目标，行政中心区域综合满意率稳中有升。", "", ""],
        ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因"],
        ["产出指标", "数量指标", "办公用房摸排院落覆盖率", "100%", "100%", "10", "10", ""],
        ["", "", "公务用车保障出车率", "100%", "100%", "10", "10", ""],
        ["", "质量指标", "节约型公共机构示范创建", "通过省级验收", "通过", "10", "10", ""],
        ["", "时效指标", "资金支付及时率", "100%", "95%", "10", "9", "部分项目结算滞后"],
        ["", "成本指标", "部门整体支出控制", "≤4526.69万元", "5017.13万元", "10", "8", "追加临时专项"],
        ["效益指标", "社会效益指标", "行政中心安全高效运转", "保障", "保障", "15", "15", ""],
        ["", "生态效益指标", "垃圾分类投放精准度", "提升", "提升", "15", "14", ""],
        ["满意度指标", "服务对象满意度指标", "服务对象满意度", "≥90%", "93%", "10", "9", ""],
        ["总分", "", "", "", "", "100", "95", ""],
    ]
    spans = [
        (0, 1, 0, 7),
        (1, 0, 1, 1), (2, 0, 2, 1), (3, 0, 3, 1), (4, 0, 4, 1),
        (5, 0, 6, 0), (5, 1, 5, 4), (5, 5, 5, 7), (6, 1, 6, 4), (6, 5, 6, 7),
        (8, 0, 12, 0), (8, 1, 9, 1), (13, 0, 14, 0),
        (16, 0, 16, 4),
    ]
    return [
        Block("title", f"2020年度{UNIT}部门整体支出绩效自评表"),
        Block("para", "本单位2020年度部门整体支出预算4526.69万元，全年执行5017.13万元，自评得分95分。"),
        Block("table", rows=rows, col_widths=[1.2, 1.1, 1.6, 1.0, 1.0, 0.6, 0.8, 1.0], spans=spans),
    ]


def main() -> None:
    text = seed_text()
    (HERE / "seed.txt").write_text(text, encoding="utf-8")
    blocks = blocks_from_text(text)
    made = [
        render_pdf(blocks, HERE / "seed-gov.pdf", "gov"),
        render_pdf(blocks, HERE / "seed-cid.pdf", "cid", header=UNIT),
        render_pdf(blocks, HERE / "seed-word.pdf", "word"),
        render_pdf(selfeval_blocks(), HERE / "table-selfeval.pdf", "tight"),
    ]
    for path in made:
        print(f"{path.name}: {path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
