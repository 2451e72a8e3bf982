"""String in, spans out: the genre's patterns on sentences written for these tests (no PDF needed)."""

from __future__ import annotations

import pytest

from pipeline.extract.flattened import find_flattened_rows
from pipeline.extract.metadata import as_unit, doc_type_of, extract_metadata, unit_from_title
from pipeline.extract.outline import build_outline
from pipeline.extract.prose import find_prose_figures
from pipeline.extract.prose.figures import find_figures
from pipeline.extract.prose.nlp import analyse
from pipeline.extract.stages import number_figures
from pipeline.extract.tables import table_figures
from pipeline.extract.text import normalise, parse_cn_number
from pipeline.model import Paragraph, Report, Source, Table


def report_of(*lines: str, display: int = 0, tables: list[Table] | None = None) -> Report:
    """A report whose paragraphs are `lines` (the first `display` of them set large, like a title)."""
    paras = [
        Paragraph(index=i, text=t, norm=normalise(t), glyphs=[None] * len(t), page=1, display=i < display)
        for i, t in enumerate(lines)
    ]
    return Report(
        source=Source(file="written.pdf", sha256="", pages=1), paragraphs=paras, tables=tables or []
    )


def analysed(*lines: str, display: int = 0) -> Report:
    report = report_of(*lines, display=display)
    for stage in (build_outline, extract_metadata, find_prose_figures, find_flattened_rows, number_figures):
        report = stage(report)
    return report


def labels(text: str, **ctx) -> list[tuple[str, str | None]]:
    doc = analyse([(normalise(text), {"body_start": 0, **ctx})])[0]
    return [(s.text, s._.label) for s in doc.spans["figures"]]


# --- numerals: cn2an converts, our patterns find the span ---


@pytest.mark.parametrize(
    "text,value,unit,kind",
    [
        ("修缮经费三点五万元", 3.5, "万元", "amount"),
        ("验收合格率百分之十五", 15, "%", "percent"),
        ("购置文具两千元", 2000, "元", "amount"),
        ("中央资金1.2亿元", 1.2, "亿元", "amount"),
        ("慰问金壹仟元", 1000, "元", "amount"),
        ("覆盖率达百分之九十五点五", 95.5, "%", "percent"),
    ],
)
def test_chinese_and_arabic_numerals(text: str, value: float, unit: str, kind: str) -> None:
    (f,) = find_figures(normalise(text))
    assert (f.value, f.unit, f.kind) == (value, unit, kind)
    assert text[f.start : f.end].endswith(unit if kind == "amount" else text[-2:])


def test_cn_number_conversion() -> None:
    assert parse_cn_number("三点五") == 3.5
    assert parse_cn_number("一亿二千万") == 120_000_000
    assert parse_cn_number("贰拾") == 20
    assert parse_cn_number("办公") is None


def test_bare_wan_is_money_only_in_a_money_clause() -> None:
    got = [
        (f.value, f.unit, f.kind)
        for f in find_figures(normalise("下达补助资金86.4万，受益群众3万余人，辐射2万群众"))
    ]
    assert (86.4, "万元", "amount") in got
    assert (30000, "人", "count") in got
    assert not any(v == 2 for v, _, _ in got)


def test_a_list_marker_before_a_unit_word_is_not_a_count() -> None:
    assert find_figures(normalise("2.项目资金使用情况分析。")) == []


# --- labels: subject + measure ---


def test_a_comparison_names_the_change_of_its_subject() -> None:
    got = labels("办公费较上年减少3.2万元，下降12.5%；印刷费同比增加1.1万元，增长8%。")
    assert got == [
        ("3.2万元", "办公费减少额"),
        ("12.5%", "办公费下降率"),
        ("1.1万元", "印刷费增加额"),
        ("8%", "印刷费增长率"),
    ]


def test_a_comparison_without_subject_takes_the_figure_before() -> None:
    got = labels("本年度事业收入45.6万元，与2022年度决算数相比增加5.4万元，增长13.4%。")
    assert got[1:] == [("5.4万元", "事业收入增加额"), ("13.4%", "事业收入增长率")]


def test_list_items_keep_their_own_names_after_the_head() -> None:
    got = labels("年度支出合计96.3万元，其中：基本支出71.2万元，项目支出25.1万元。")
    assert [lab for _, lab in got] == ["支出合计", "基本支出", "项目支出"]


def test_a_clause_is_cut_to_its_noun_phrase() -> None:
    got = dict(labels("收入增加的主要原因是本年新增培训专项经费12万元；三是上级下拨了防汛物资补助8万元。"))
    assert got["12万元"] in ("本年新增培训专项经费", "新增培训专项经费", "培训专项经费")
    assert got["8万元"] == "防汛物资补助"


def test_a_leading_verb_and_a_year_inside_the_clause_are_dropped() -> None:
    got = dict(labels("市财政局文件下达某镇2024年农村公路养护资金300万元。"))
    assert got["300万元"] == "农村公路养护资金"


def test_a_pronoun_label_takes_the_section_topic() -> None:
    got = labels("该项目120万元已全部到位。", topic="专项资金到位情况分析")
    assert got == [("120万元", "专项资金到位")]


def test_a_figure_opening_its_clause_is_labelled_by_the_words_after_it() -> None:
    assert labels("56万元经费全部拨付到位。") == [("56万元", "经费拨付到位")]


def test_a_formula_in_parentheses_is_not_the_label() -> None:
    assert labels("预算执行率（B/A）98%")[0][1] == "预算执行率"


def test_the_level_of_a_classification_item_is_not_part_of_its_label() -> None:
    got = labels("一般公共服务支出（类）600万元，行政运行(项)120万元。")
    assert got == [("600万元", "一般公共服务支出"), ("120万元", "行政运行")]


def test_a_sentence_broken_across_paragraphs_is_read_whole() -> None:
    report = analysed(
        "（一）本馆2023年度总支出320.5万元，其中本年支",
        "出300.5万元，较上年减少20.2万元，下降6.3%。",
    )
    got = [(f.value, f.label) for f in report.figures]
    assert got == [(320.5, "总支出"), (300.5, "本年支出"), (20.2, "本年支出减少额"), (6.3, "本年支出下降率")]


def test_table_cells_join_row_and_column_headers() -> None:
    table = Table(
        id="t1",
        page=1,
        rows=[
            ["资金来源（万元）", "年初预算数", "全年执行数", "执行率"],
            ["专项资金合计", "50.00", "45.00", "90%"],
            ["其中：省级补助", "30.00", "27.00", "90%"],
        ],
    )
    got = [(f.label, f.value, f.unit) for f in table_figures(table)]
    assert ("专项资金年初预算数", 50.0, "万元") in got  # 合计 is how the row is printed, not what it is
    assert ("省级补助全年执行数", 27.0, "万元") in got
    assert ("省级补助执行率", 90.0, "%") in got


def test_a_header_printed_from_the_first_column_stands_over_the_values() -> None:
    table = Table(
        id="t1",
        page=1,
        rows=[
            ["预算数（万元）", "执行数（万元）", "执行率", ""],
            ["资金总额", "12.5", "12.5", "100%"],
        ],
    )
    got = [(f.label, f.kind) for f in table_figures(table, "万元")]
    assert got == [("资金总额预算数", "amount"), ("资金总额执行数", "amount"), ("资金总额执行率", "percent")]


def test_a_form_flattened_to_lines() -> None:
    report = analysed(
        "指标名称", "计量单位", "指标值", "培训人次", "人", "≥", "260", "培训经费", "万元", "12.8"
    )
    got = [(f.label, f.value, f.unit, f.qualifier) for f in report.figures]
    assert got == [("培训人次", 260, "人", "≥"), ("培训经费", 12.8, "万元", None)]


# --- metadata ---


def test_unit_and_year_from_the_title() -> None:
    report = analysed("某市某区文化旅游广电局2023年度部门整体支出绩效自评报告", "一、基本情况", display=1)
    assert (report.meta.unit, report.meta.year) == ("某市某区文化旅游广电局", 2023)
    assert report.meta.doc_type == "部门整体支出绩效自评报告"


def test_title_after_an_attachment_note_and_over_two_lines() -> None:
    report = analysed("附件2：", "附件2：某县水利局2022年度", "水土保持专项资金绩效自评报告", "一、项目概况")
    assert report.meta.unit == "某县水利局"
    assert report.meta.year == 2022
    assert report.meta.doc_type == "专项资金绩效自评报告"


def test_the_year_is_not_a_quoted_document_nor_the_year_compared_against() -> None:
    report = analysed(
        "根据《关于做好2021年度绩效自评工作的通知》要求，较2021年度决算数，本单位2022年度总收入88万元。"
    )
    assert report.meta.year == 2022


def test_unit_from_a_form_field() -> None:
    table = Table(
        id="t1", page=1, rows=[["项目名称", "乡村道路养护"], ["实施单位（盖章）", "某县交通运输局"]]
    )
    report = report_of("项目支出绩效自评表", tables=[table])
    report.paragraphs.append(Paragraph(index=1, text="", norm="", glyphs=[], page=1, table="t1"))
    assert extract_metadata(report).meta.unit == "某县交通运输局"


def test_unit_from_the_first_sentence_and_none_from_we() -> None:
    assert analysed("绩效自评报告", "某县妇女联合会是党领导的群团组织。").meta.unit == "某县妇女联合会"
    assert analysed("绩效自评报告", "我局2023年度认真开展自评工作。").meta.unit is None


@pytest.mark.parametrize(
    "text", ["三、", "(一)", "全市", "附件:", "关于“", "我局", "本单位", "其中包括工作经费的情况"]
)
def test_fragments_are_not_units(text: str) -> None:
    assert as_unit(text) is None


def test_unit_names_pass() -> None:
    assert as_unit("附件1：某县人民医院") == "某县人民医院"
    assert unit_from_title("关于某区政协2023年度部门整体支出绩效自评的报告") == "某区政协"


@pytest.mark.parametrize(
    "title,kind",
    [
        ("2023年度中央对地方转移支付项目绩效自评表", "转移支付项目绩效自评表"),
        ("某局2023年“三公”经费预算及决算情况说明", "三公经费情况说明"),
        ("某县财政局2023年度一般公共预算“三公”经费支出情况说明", "三公经费情况说明"),
        ("某局2023年度部门决算情况说明", "部门决算情况说明"),
        ("2023年1-6月预算执行情况", "预算执行情况报告"),
        ("某中心2023年度项目支出绩效自评报告", "项目支出绩效自评报告"),
        ("某中心工作总结", "其他"),
    ],
)
def test_doc_type_from_the_documented_list(title: str, kind: str) -> None:
    assert doc_type_of(title) == kind
    assert doc_type_of(None) is None


# --- headings ---


def test_heading_marker_alone_on_its_line_and_part_headings() -> None:
    report = analysed(
        "第一部分 单位概况", "一、", "收入支出决算情况说明", "本年收入10万元。", "第二部分 决算表"
    )
    got = [(s.level, s.number, s.title) for s in report.sections]
    assert got == [(1, "一", "单位概况"), (2, "一", "收入支出决算情况说明"), (1, "二", "决算表")]


def test_a_heading_run_on_after_a_colon_opens_its_own_paragraph() -> None:
    from pipeline.extract.layout import _split_trailing_heading

    par = report_of("现将有关情况报告如下：一、部门概况").paragraphs[0]
    assert [p.text for p in _split_trailing_heading(par)] == ["现将有关情况报告如下：", "一、部门概况"]


def test_a_table_printed_as_text_lines_labels_by_row_and_column() -> None:
    report = analysed(
        "单位：万元",
        "资金类别 年初预算 调整后预算 实际支出 支出进度",
        "省级专项 120.50 130 118.6 91.2%",
        "县级配套 40 40 36.25",
    )
    got = [(f.label, f.value, f.unit) for f in report.figures]
    assert got == [
        ("省级专项年初预算", 120.5, "万元"),
        ("省级专项调整后预算", 130, "万元"),
        ("省级专项实际支出", 118.6, "万元"),
        ("省级专项支出进度", 91.2, "%"),
        ("县级配套年初预算", 40, "万元"),
        ("县级配套调整后预算", 40, "万元"),
        ("县级配套实际支出", 36.25, "万元"),
    ]


def test_a_measure_after_a_measure_carries_no_subject() -> None:
    assert [lab for _, lab in labels("全年预算数46万元，全年执行数44.5万元，预算执行率96.7%。")] == [
        "全年预算数",
        "全年执行数",
        "预算执行率",
    ]


def test_a_rate_size_word_and_a_cause_before_a_comparison() -> None:
    got = labels("超预算12万元，增幅8.5%；临聘人员6人（因合同到期较上年减少1人）。")
    assert got[1] == ("8.5%", "超预算增幅")
    assert got[3] == ("1人", "临聘人员较上年减少")


def test_target_form_scaffolding_and_document_names_leave_the_label() -> None:
    assert labels("质量指标 指标2.设备验收合格率100%")[0][1] == "设备验收合格率"
    got = labels("印发《关于开展节能宣传周活动的通知》等宣传资料1200份")
    assert got[0][1] == "宣传资料"
    assert labels("转移支付预算数5.8万")[0][1] == "转移支付预算数"


@pytest.mark.parametrize(
    "title,unit,year",
    [
        ("某县农业农村局关于2023年度部门整体支出绩效自评的报告", "某县农业农村局", 2023),
        ("某市某区卫生健康局（本级）2022年度部门整体支出绩效自评报告", "某市某区卫生健康局", 2022),
        ("二〇二三年度某县档案馆部门整体支出绩效自评报告", "某县档案馆", 2023),
        ("沛县2024年中央财政衔接推进乡村振兴补助资金绩效自评报告", "沛县", 2024),
    ],
)
def test_titles_worded_in_other_ways(title: str, unit: str, year: int) -> None:
    report = analysed(title, "一、基本情况", display=1)
    assert (report.meta.unit, report.meta.year) == (unit, year)


def test_first_sentence_with_a_short_name_in_parentheses() -> None:
    report = analysed("绩效自评报告", "某县市场监督管理局（以下简称“县市场监管局”）是县政府工作部门。")
    assert report.meta.unit == "某县市场监督管理局"


def test_changes_said_after_the_comparison_and_counts_of_visits() -> None:
    got = labels("与年初预算相比，决算支出增加45.3万元，增幅6.1%；共接待12批次58人。")
    assert got[:2] == [("45.3万元", "决算支出增加额"), ("6.1%", "决算支出增幅")]
    assert got[-1][0] == "58人"
    assert labels("在职人员较上年增加3人。") == [("3人", "在职人员较上年增加")]
    assert labels("相比上年增加18.6万元，增长12%。")[1] == ("12%", "增长率")


def test_a_score_in_a_funds_row_is_the_rate_score() -> None:
    table = Table(
        id="t1",
        page=1,
        rows=[
            ["项目资金（万元）", "年初预算数", "全年执行数", "分值", "执行率", "得分"],
            ["年度资金总额", "80", "76", "10", "95%", "9.5"],
        ],
    )
    got = {(f.label, f.value) for f in table_figures(table)}
    assert ("执行率分值", 10) in got and ("执行率得分", 9.5) in got
    assert ("年度资金总额全年执行数", 76) in got or ("资金总额全年执行数", 76) in got


def test_the_thing_named_after_the_figure_when_the_clause_ends_in_a_verb() -> None:
    assert labels("年中追加30万元工作经费，用于设备购置。") == [("30万元", "年中追加工作经费")]


def test_a_year_other_than_the_report_year_stays_in_the_label() -> None:
    report = analysed(
        "某县文化馆2023年度部门整体支出绩效自评报告",
        "2023年度公务接待费1.2万元。2022年度公务接待费1.5万元。",
        display=1,
    )
    assert [(f.value, f.label) for f in report.figures] == [(1.2, "公务接待费"), (1.5, "2022年度公务接待费")]


def test_a_form_with_its_title_and_fields_in_the_table() -> None:
    table = Table(
        id="t1",
        page=1,
        rows=[
            ["（2023年度）项目支出绩效自评表", None, None],
            ["主管部门及代码", "[213]某县农业农村局", None],
            ["实施单位", "某县农业技术推广中心", None],
        ],
    )
    report = report_of(tables=[table])
    report.paragraphs.append(Paragraph(index=0, text="", norm="", glyphs=[], page=1, table="t1"))
    meta = extract_metadata(report).meta
    assert (meta.unit, meta.year, meta.doc_type) == ("某县农业技术推广中心", 2023, "项目支出绩效自评表")
    table.rows.pop()
    assert extract_metadata(report).meta.unit == "某县农业农村局"


def test_unit_on_its_own_line_above_a_title_over_three_lines() -> None:
    report = analysed("某县气象局", "2023年度", "部门整体支出", "绩效自评报告", "一、部门概况")
    assert (report.meta.unit, report.meta.year, report.meta.title) == (
        "某县气象局",
        2023,
        "2023年度部门整体支出绩效自评报告",
    )


def test_a_column_declares_its_own_unit_and_a_unit_line_above_the_table() -> None:
    from pipeline.extract.tables import title_unit_before

    table = Table(
        id="t1",
        page=1,
        rows=[
            ["项目", "预算数", "人均标准（元）"],
            ["慰问经费", "12.5", "300"],
        ],
    )
    got = [(f.label, f.value, f.unit) for f in table_figures(table, "万元")]
    assert got == [("慰问经费预算数", 12.5, "万元"), ("慰问经费人均标准", 300, "元")]
    paras = report_of("表3 慰问经费明细", "单位：万元", "注：含上年结转", "").paragraphs
    assert title_unit_before(paras, 3) == "万元"


def test_copulas_and_new_levels_before_a_figure_and_no_carry_over_a_semicolon() -> None:
    assert labels("综合得分为95.5分")[0][1] == "综合得分"
    assert labels("每户补助标准提高至每月650元")[0][1] == "每户补助标准"
    got = labels("年初预算120万元，资金到位率100%；实际支出110万元。")
    assert got[-1] == ("110万元", "实际支出")


def test_an_amount_in_yuan_at_the_end_of_a_cell_under_a_wan_header() -> None:
    table = Table(
        id="t1",
        page=1,
        rows=[["项目（万元）", "预算数", "备注"], ["慰问金", "1.5", "每人500元"], ["印刷费", "2000元", ""]],
    )
    got = [(f.label, f.value, f.unit) for f in table_figures(table)]
    assert ("慰问金预算数", 1.5, "万元") in got
    assert ("印刷费预算数", 2000, "元") in got


def test_the_reports_own_name_inside_a_clause_ends_the_preamble() -> None:
    assert labels("县财政共下达我局项目资金500万元。") == [("500万元", "项目资金")]


def test_the_signature_before_attached_forms() -> None:
    report = analysed(
        "2023年度部门整体支出绩效自评报告",
        "我局认真开展了自评。",
        "某县自然资源局",
        "2024年3月8日",
        "附件1",
        "项目支出绩效自评表",
        "项目名称",
        "耕地保护",
        display=1,
    )
    assert report.meta.unit == "某县自然资源局"


def test_a_long_clause_is_cut_after_its_last_de_a_short_name_keeps_it() -> None:
    assert labels("按照市里关于做好乡村振兴工作的部署安排的衔接资金80万元")[0][1] == "衔接资金"
    assert labels("对个人和家庭的补助12万元")[0][1] == "对个人和家庭的补助"


def test_a_number_with_a_closing_parenthesis_only_is_a_heading_marker() -> None:
    report = analysed("一、项目概况", "1）资金到位情况", "本年到位资金10万元。", "2）资金使用情况")
    assert [(s.level, s.number, s.title) for s in report.sections] == [
        (1, "一", "项目概况"),
        (2, "1", "资金到位情况"),
        (2, "2", "资金使用情况"),
    ]


def test_names_listed_before_respectively_go_to_the_figures_in_order() -> None:
    got = labels("其中：中央资金、省级资金分别为600万元和423万元；基本支出和项目支出分别增长5%、8%。")
    assert [lab for _, lab in got] == ["中央资金", "省级资金", "基本支出增长率", "项目支出增长率"]


def test_a_formula_defines_its_figure_and_its_factor_is_no_figure() -> None:
    assert labels("预算执行率=实际支出/预算数×100%=96.5%。") == [("96.5%", "预算执行率")]


def test_fields_on_one_line_do_not_borrow_the_figure_before() -> None:
    assert [lab for _, lab in labels("资金总额：150万元 执行数：148万元 执行率：98.7%")] == [
        "资金总额",
        "执行数",
        "执行率",
    ]


def test_whole_numbers_as_money_fields_under_a_declared_unit() -> None:
    report = analysed("年初预算数（万元）：150；全年执行数：155.6；完成时间：2023年；项目编号：2023")
    assert [(f.label, f.value, f.unit) for f in report.figures] == [
        ("年初预算数", 150, "万元"),
        ("全年执行数", 155.6, "万元"),
    ]


def test_units_named_after_the_year_without_a_genre_word_between() -> None:
    assert unit_from_title("2023年度某县档案室自评报告") == "某县档案室"
    assert unit_from_title("2023年某县实验小学工作情况说明") == "某县实验小学"
    assert unit_from_title("2022年度部门(单位)整体支出绩效自评报告") is None


def test_a_share_of_the_subject_named_before_zhan() -> None:
    got = labels(
        "本年支出1000万元。基本支出占总支出的73.6%，项目支出占26.4%；其中工资福利支出500万元，占50%。"
    )
    assert [lab for _, lab in got] == [
        "本年支出",
        "基本支出占比",
        "项目支出占比",
        "工资福利支出",
        "工资福利支出占比",
    ]


def test_other_self_names_open_no_label() -> None:
    assert labels("我处共有在职人员32人。") == [("32人", "在职人员")]
