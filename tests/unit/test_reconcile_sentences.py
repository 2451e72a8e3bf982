"""Reconciliation on sentences written for these tests: text in, checks out (no PDF drawn).

Each test states one pattern of the genre the way bureaus word it, and asserts which relation is read,
with which figures, and whether it passes, fails or cannot be verified.
"""

from __future__ import annotations

import pytest

from pipeline.fromtext import report_from_text
from pipeline.model import Check, Report


def run(text: str) -> Report:
    return report_from_text(text)


def texts(report: Report, check: Check) -> list[str]:
    by_id = {f.id: f for f in report.figures}
    return [by_id[i].text for i in check.figures]


def about(report: Report, result_text: str) -> list[Check]:
    """The checks whose result is the figure printed as `result_text`."""
    by_id = {f.id: f for f in report.figures}
    return [c for c in report.checks if by_id[c.result].text == result_text]


def only(report: Report, result_text: str) -> Check:
    found = about(report, result_text)
    assert len(found) == 1, [(c.rule, c.status, texts(report, c)) for c in found]
    return found[0]


# 1. change + rate: the rate is Δ ÷ (X ∓ Δ), never "from Δ to X"
@pytest.mark.parametrize(
    "sentence, status",
    [
        ("本局2023年度支出8,450.60万元，比上年增加620.40万元，增长7.92%。", "pass"),
        ("部门收入3,200.00万元，较上年减少400.00万元，下降11.11%。", "pass"),
        ("全年收入52,340万元，同比增收6,210万元，增长13.46%。", "pass"),
        ("本局2023年度支出8,450.60万元，比上年增加620.40万元，增长9.50%。", "fail"),
    ],
)
def test_change_and_rate_are_read_against_last_year(sentence: str, status: str) -> None:
    r = run(sentence)
    rate = next(f for f in r.figures if f.kind == "percent")
    c = only(r, rate.text)
    assert c.status == status
    assert c.rule == "change_rate" and len(c.figures) == 3
    assert not [x for x in r.checks if x.status == "fail" and x.result != c.result]


def test_change_stated_a_sentence_after_the_figure() -> None:
    r = run(
        "1.财政拨款收入812.40万元，为本级财政拨付的资金。较上年减少90.60万元，下降10.03%，主要是人员减少。"
    )
    c = only(r, "10.03%")
    assert c.status == "pass" and texts(r, c) == ["10.03%", "90.60万元", "812.40万元"]


def test_rate_of_a_change_against_figures_stated_before() -> None:
    r = run(
        "2024年度会议费预算15.60万元。\n2023年度会议费决算支出16.25万元。\n"
        "2024年度会议费预算较上年减少0.65万元，下降4.00%。"
    )
    c = about(r, "4.00%")
    assert c and all(x.status == "pass" for x in c)
    assert any(set(texts(r, x)) == {"4.00%", "0.65万元", "16.25万元"} for x in c)
    diff = only(r, "0.65万元")
    assert diff.status == "pass" and diff.rule == "difference"


def test_growth_with_last_year_in_the_sentence() -> None:
    r = run("本年项目支出1,320万元，上年项目支出1,200万元，增长10%。")
    c = only(r, "10%")
    assert c.rule == "growth" and c.status == "pass"


# 2. nested and qualified breakdowns
def test_breakdown_of_a_part_is_not_read_as_the_total_s() -> None:
    r = run(
        "项目总投资500万元，其中设备购置费为300万元，包含服务器120万元；存储设备100万元；网络设备80万元。"
    )
    c = only(r, "300万元")
    assert c.status == "pass" and texts(r, c) == ["300万元", "120万元", "100万元", "80万元"]
    assert not about(r, "500万元") or all(x.status != "fail" for x in about(r, "500万元"))


def test_breakdown_then_adjustment_then_what_is_left() -> None:
    r = run("下达资金1,000万元，其中：省级资金600万元、市级资金400万元，调减50万元，实际下达950万元。")
    assert only(r, "1,000万元").status == "pass"
    left = only(r, "950万元")
    assert left.status == "pass" and texts(r, left) == ["950万元", "1,000万元", "50万元"]
    r = run("下达资金1,000万元，其中：省级资金600万元、市级资金400万元，调减50万元，实际下达960万元。")
    assert only(r, "960万元").status == "fail"


def test_breakdown_that_names_some_parts_only_is_never_a_slip() -> None:
    r = run("全年支出800万元，其中主要包括人员经费300万元、公用经费200万元等。")
    assert all(c.status != "fail" for c in r.checks)


def test_breakdown_right_after_its_total_that_does_not_add_up_is_a_slip() -> None:
    r = run("决算收入900万元，其中：财政拨款收入700万元，事业收入150万元。")
    c = only(r, "900万元")
    assert c.status == "fail" and c.expected == 850


def test_head_count_breakdown_in_the_next_sentence() -> None:
    r = run("本部门编制人数12人，实有人数14人。其中：在职人员11人，退休人员3人。")
    c = only(r, "14人")
    assert c.status == "pass" and texts(r, c) == ["14人", "11人", "3人"]
    r = run("本部门编制人数12人，实有人数15人。其中：在职人员11人，退休人员3人。")
    assert only(r, "15人").status == "fail"


def test_breakdown_until_the_semicolon_that_closes_it() -> None:
    r = run("在职人员64人，其中：行政人员20人，事业人员44人；离退休人员31人。")
    c = only(r, "64人")
    assert c.status == "pass" and len(c.figures) == 3


# 3. shares of the right base
def test_shares_in_a_list_share_the_base_named_once() -> None:
    r = run(
        "本年支出合计1,250.00万元。其中：基本支出900.00万元，占本年支出合计的72.00%；项目支出350.00万元，占28.00%。"
    )
    a, b = only(r, "72.00%"), only(r, "28.00%")
    assert a.status == b.status == "pass"
    assert texts(r, a)[-1] == texts(r, b)[-1] == "1,250.00万元"


def test_share_of_a_base_stated_paragraphs_before() -> None:
    r = run(
        "一、收支总体情况\n本年一般公共预算支出2,000.00万元。\n二、支出结构\n"
        "教育支出500.00万元，占一般公共预算支出的25.00%。"
    )
    c = only(r, "25.00%")
    assert c.status == "pass" and texts(r, c) == ["25.00%", "500.00万元", "2,000.00万元"]


def test_share_with_its_base_printed_inside_the_phrase_is_pinned() -> None:
    r = run("培训费12.00万元，占公用经费总额300.00万元的5.00%。")
    assert only(r, "5.00%").status == "fail"  # 12 ÷ 300 = 4 %


# 4. rates from roles, not adjacency
@pytest.mark.parametrize("rate, status", [("90.00%", "pass"), ("95.00%", "fail")])
def test_execution_rate_with_its_budget_a_sentence_before(rate: str, status: str) -> None:
    r = run(f"项目年度预算资金200.00万元。截至年底，实际支出180.00万元，预算执行率{rate}。")
    c = only(r, rate)
    assert c.status == status and texts(r, c) == [rate, "180.00万元", "200.00万元"]


def test_completion_against_the_budget_in_words() -> None:
    r = run("全年预算1,000万元，实际执行950万元，完成预算的95%。")
    c = only(r, "95%")
    assert c.status == "pass" and texts(r, c) == ["95%", "950万元", "1,000万元"]


def test_rate_of_arrival() -> None:
    r = run("专项资金预算500万元。\n500万元资金已全部拨付到位，资金到位率100%。")
    c = only(r, "100%")
    assert c.status == "pass" and len(c.figures) == 3


def test_rate_whose_sentence_names_no_figure_is_unverifiable() -> None:
    r = run("我单位高度重视预算管理，预算执行率达到98%。")
    assert only(r, "98%").status == "unverifiable"


# 5. repeats: same subject, same measure, same period
def test_generic_change_labels_about_different_subjects_are_not_repeats() -> None:
    r = run("一、收入\n财政拨款收入800万元，同比减少50万元。\n二、支出\n基本支出600万元，同比减少30万元。")
    assert not [c for c in r.checks if c.rule == "repeat"]


def test_same_specific_quantity_with_two_values_is_a_slip() -> None:
    r = run(
        "一、预算情况\n基本支出预算数为320.00万元。\n二、执行情况\n基本支出预算数为330.00万元，执行良好。"
    )
    fails = [c for c in r.checks if c.rule == "repeat"]
    assert len(fails) == 1 and fails[0].status == "fail"


# 6. recall: sums without cue words, found by arithmetic and kept only beyond chance
def test_parts_listed_after_their_total_without_a_cue() -> None:
    r = run(
        "本年收入合计1,532.48万元。\n1.财政拨款收入1,206.15万元，较上年增加12.30万元。\n"
        "2.事业收入276.03万元。\n3.其他收入50.30万元。"
    )
    c = only(r, "1,532.48万元")
    assert c.status == "pass" and texts(r, c) == ["1,532.48万元", "1,206.15万元", "276.03万元", "50.30万元"]


def test_small_whole_numbers_are_not_summed_by_chance() -> None:
    r = run("共开展培训6次，其中线上培训的参训单位有4家。另有检查10次，发现问题4个，整改2个。")
    assert not [c for c in r.checks if c.detector == "discovery_sum"]


def test_a_discovered_sum_never_fails() -> None:
    r = run(
        "本年收入合计1,532.48万元。\n1.财政拨款收入1,206.15万元。\n2.事业收入276.03万元。\n3.其他收入50.31万元。"
    )
    assert not [c for c in r.checks if c.status == "fail"]


def test_every_check_names_its_detector_and_words() -> None:
    r = run("全年预算1,000万元，实际执行950万元，完成预算的95%。")
    assert r.checks and all(c.detector and c.evidence for c in r.checks)


def test_breakdown_of_a_change_lists_changes() -> None:
    r = run("本年支出比上年增加120万元，其中：人员经费增加80万元，公用经费增加40万元。")
    c = only(r, "120万元")
    assert c.status == "pass" and texts(r, c) == ["120万元", "80万元", "40万元"]


def test_list_running_on_past_its_breakdown_is_not_a_slip() -> None:
    r = run("本年支出100万元，其中基本支出60万元，项目支出40万元，年末结转10万元。")
    c = only(r, "100万元")
    assert c.status == "pass" and len(c.figures) == 3


def test_budget_of_another_chapter_does_not_pin_a_rate() -> None:
    r = run(
        "一、甲项目\n甲项目预算资金100.00万元，已全部下达。\n二、乙项目\n乙项目实际支出50.00万元，执行率100%。"
    )
    assert only(r, "100%").status != "fail"


def test_a_change_against_two_dated_figures_of_its_subject_is_pinned() -> None:
    head = "2024年度会议费预算15.60万元。\n2023年度会议费决算支出16.25万元。\n"
    r = run(head + "2024年度会议费预算较上年减少0.80万元，下降5.00%。")
    assert only(r, "0.80万元").status == "fail"  # 16.25 − 15.60 = 0.65
    assert [c.status for c in about(r, "5.00%")] == ["fail"]


def test_changes_of_each_part_are_read_against_that_part() -> None:
    r = run(
        "2023年一般公共预算财政拨款支出300万元，比2022年减少30万元，下降9.09%，其中：基本支出200万元，"
        "比上年减少10万元，下降4.76%；项目支出100万元，比上年减少20万元，下降16.67%。"
    )
    assert all(c.status == "pass" for c in r.checks)
    assert texts(r, only(r, "16.67%"))[1:] == ["20万元", "100万元"]


def test_rate_said_in_words_against_the_budget_named() -> None:
    r = run("一般公共预算财政拨款支出年初预算为500万元，支出决算为480万元，完成年初预算的96%。")
    c = only(r, "96%")
    assert c.status == "pass" and texts(r, c) == ["96%", "480万元", "500万元"]


def test_a_list_s_own_total_closes_it() -> None:
    r = run("其中：办公费10万元，印刷费5万元，水电费3万元，合计18万元。")
    c = only(r, "18万元")
    assert c.status == "pass" and texts(r, c) == ["18万元", "10万元", "5万元", "3万元"]
    # whole 万元 are ± 0.5 each: 10 + 5 + 3 may make 19; printed to the cent they cannot
    r = run("其中：办公费10.00万元，印刷费5.00万元，水电费3.00万元，合计19.00万元。")
    assert only(r, "19.00万元").status == "fail"


def test_balance_is_what_was_available_less_what_was_spent() -> None:
    r = run("部门预算安排资金80万元，上级追加资金20万元，全年可用资金100万元，实际支出90万元，结余10万元。")
    assert texts(r, only(r, "10万元")) == ["10万元", "100万元", "90万元"]
    assert texts(r, only(r, "100万元")) == ["100万元", "80万元", "20万元"]


@pytest.mark.parametrize(
    "sentence, result, status",
    [
        # adjustments: what is left is the signed sum of the chain before it
        (
            "年初预算1,200.00万元，年中追加预算150.00万元，调减预算30.00万元，调整后预算为1,320.00万元。",
            "1,320.00万元",
            "pass",
        ),
        (
            "年初预算500.00万元，上年结转50.00万元，年中追加80.00万元，全年可用资金630.00万元。",
            "630.00万元",
            "pass",
        ),
        (
            "年初预算500.00万元，上年结转50.00万元，年中追加80.00万元，全年可用资金640.00万元。",
            "640.00万元",
            "fail",
        ),
        # a figure inside the parenthesis after a total is a note on it, not the total of the list
        (
            "本年支出合计980.00万元（含上年结转资金支出80.00万元），其中基本支出700.00万元、项目支出280.00万元。",
            "980.00万元",
            "pass",
        ),
        # a part listed too many is a slip, even where the others add up
        (
            "本年收入合计500.00万元，其中财政拨款400.00万元，事业收入100.00万元，其他收入20.00万元。",
            "500.00万元",
            "fail",
        ),
        # a change with last year's figure printed beside it
        ("本年度部门整体支出1,153.00万元，较上年1,000.00万元增加135.00万元。", "135.00万元", "fail"),
        ("“三公”经费支出8.50万元，比上年10.00万元减少1.50万元。", "1.50万元", "pass"),
        # two figures and their difference named
        ("本年收入合计1,860.40万元，本年支出合计1,795.60万元，年末结转结余74.80万元。", "74.80万元", "fail"),
        # a rate stated before its operands
        ("部门预算执行率为97.35%，全年预算数1,820.00万元，实际支出1,761.80万元。", "97.35%", "fail"),
        ("本年度专项资金下达预算350.00万元，实际到位315.00万元，到位率为90%。", "90%", "pass"),
    ],
)
def test_probed_wordings(sentence: str, result: str, status: str) -> None:
    assert only(run(sentence), result).status == status


def test_changes_of_opposite_direction_are_not_summed() -> None:
    r = run("基本支出比上年增加50万元，项目支出比上年减少30万元，总支出比上年增加20万元。")
    assert not [c for c in r.checks if c.detector == "discovery_sum"]


def test_income_total_is_this_year_s_income_and_the_carry_over() -> None:
    text = (
        "（一）本单位2024年度总收入736.20万元，其中本年收入601.40万元。\n1.财政拨款收入590.00万元。\n"
        "2.上年结转和结余134.80万元。"
    )
    assert only(run(text), "736.20万元").status == "pass"
    slip = run(text.replace("601.40", "611.40"))
    assert [c.status for c in about(slip, "736.20万元")] == ["fail"]


def test_numbered_items_after_a_listing_are_the_parts_of_the_income_stated_before() -> None:
    text = (
        "（一）收入情况\n本单位2024年度总收入812.30万元，其中本年收入700.10万元。收入具体情况如下。\n"
        "1.财政拨款收入650.00万元，较上年增加20.00万元。\n2.事业收入50.10万元。\n3.上年结转和结余112.20万元。\n"
        "（二）支出情况\n本年支出700.10万元。"
    )
    r = run(text)
    assert [(c.status, len(c.figures)) for c in r.checks if c.detector == "listing"] == [
        ("pass", 4),
        ("pass", 3),
    ]
    slip = run(text.replace("700.10万元。收入", "710.10万元。收入"))
    assert [c.status for c in slip.checks if c.detector == "listing"] == ["pass", "fail"]


@pytest.mark.parametrize("first", ["一般公共服务支出", "共青团工作经费", "公共安全支出"])
def test_a_total_after_its_parts_takes_them_all_though_a_part_s_name_holds_共(first: str) -> None:
    # 共 states a total (共 10 项), but not inside 公共 / 共青团: the run of parts must not stop there
    text = f"（一）支出情况\n{first}600万元，教育支出300万元，社会保障和就业支出100万元，合计1000万元。"
    check = only(run(text), "1000万元")
    assert (check.status, texts(run(text), check)) == ("pass", ["1000万元", "600万元", "300万元", "100万元"])
    assert only(run(text.replace("合计1000", "合计1010")), "1010万元").status == "fail"


def test_an_execution_rate_may_be_of_the_money_that_arrived() -> None:
    text = "（一）资金使用情况\n项目资金拨付到位680万元，实际支出653.2万元，资金执行率96.06%。"
    check = only(run(text), "96.06%")
    assert (check.status, texts(run(text), check)) == ("pass", ["96.06%", "653.2万元", "680万元"])
    # the rate is not pinned to that reading: a rate no reading gives is unverifiable, not a slip
    assert only(run(text.replace("96.06%", "91.06%")), "91.06%").status == "unverifiable"


@pytest.mark.parametrize("base", ["比2022年", "比2022年的", "较2022年度"])
def test_a_figure_after_a_dated_comparison_is_the_earlier_year_s(base: str) -> None:
    text = f"（一）三公经费\n2023年公务接待费支出1.25万元，{base}1.50万元减少0.25万元，下降16.67%。"
    r = run(text)
    labels = [f.label for f in r.figures]
    assert labels[1] in (
        "2022年公务接待费支出",
        "2022年度公务接待费支出",
    )  # the base says 2022 年 or 2022 年度
    assert (labels[0], labels[2]) == ("公务接待费支出", "公务接待费支出减少额")
    assert only(r, "0.25万元").status == "pass"
    # the pair is pinned by the years: a slip in the change is a finding
    slip = run(text.replace("减少0.25", "减少0.35"))
    assert only(slip, "0.35万元").status == "fail"


def test_shares_said_respectively_are_each_of_their_own_figure() -> None:
    text = (
        "（一）项目支出\n全年项目支出1,234.5万元，其中：商品和服务支出1,000.0万元，资本性支出234.5万元，"
        "分别占项目支出的81.0%和19.0%。"
    )
    r = run(text)
    assert [f.label for f in r.figures][3:] == ["商品和服务支出占比", "资本性支出占比"]
    assert [(c.status, texts(r, c)) for c in r.checks if c.rule == "ratio"] == [
        ("pass", ["81.0%", "1,000.0万元", "1,234.5万元"]),
        ("pass", ["19.0%", "234.5万元", "1,234.5万元"]),
    ]
    # the phrase names the total of the parts' own breakdown: a slip is a finding
    assert only(run(text.replace("81.0%", "82.0%")), "82.0%").status == "fail"


def test_a_figure_after_a_comparison_with_last_year_s_measure_is_last_year_s() -> None:
    text = "（一）机关运行经费\n机关运行经费支出45.6万元，比上年决算数48.2万元减少2.6万元，下降5.39%。"
    r = run(text)
    assert [f.label for f in r.figures] == [
        "机关运行经费支出",
        "上年机关运行经费支出",
        "机关运行经费支出减少额",
        "机关运行经费支出下降率",
    ]
    assert only(run(text.replace("减少2.6", "减少2.9")), "2.9万元").status == "fail"


def test_a_share_said_as_a_proportion_names_its_base_the_same() -> None:
    text = "（一）基本支出\n基本支出600万元，其中人员经费510万元，人员经费占基本支出的比重为85%。"
    assert only(run(text), "85%").status == "pass"
    assert only(run(text.replace("85%", "86%")), "86%").status == "fail"


def test_a_progress_rate_takes_the_budget_explained_in_parentheses_after_it() -> None:
    text = "（一）资金支付\n截至12月底，项目资金已支付285.3万元，支付进度为95.1%（年度预算300万元）。"
    check = only(run(text), "95.1%")
    assert (check.status, texts(run(text), check)) == ("pass", ["95.1%", "285.3万元", "300万元"])
    assert only(run(text.replace("95.1%", "96.1%")), "96.1%").status == "fail"


@pytest.mark.parametrize(
    "sentence, status",
    [
        ("全年培训人员1,250人，较上年的1,000人增长25%。", "pass"),
        ("全年培训人员1,250人，较上年的1,000人增长20%。", "fail"),
        ("在职人员48人，比上年增加4人，增长9.09%。", "pass"),
        ("在职人员48人，比上年增加4人，增长8.09%。", "fail"),
    ],
)
def test_growth_of_head_counts(sentence: str, status: str) -> None:
    r = run("（一）人员情况\n" + sentence)
    (check,) = [c for c in r.checks if c.rule in ("growth", "change_rate")]
    assert check.status == status
    assert r.figures[-1].label in ("全年培训人员增长率", "在职人员增长率")


def test_an_adjustment_lends_no_subject_to_the_budget_after_it() -> None:
    text = "（一）项目资金\n年初预算安排项目资金200万元，年中追加50万元，全年预算250万元，实际支出240万元，执行率96%。"
    r = run(text)
    assert [f.label for f in r.figures][2:4] == ["全年预算", "实际支出"]
    assert [c.status for c in r.checks] == ["pass", "pass"]
    slip = run(text.replace("全年预算250", "全年预算260"))
    assert only(slip, "260万元").status == "fail"


@pytest.mark.parametrize("said", ["比预算减少", "较年初预算节约"])
def test_a_change_said_against_the_budget_is_the_budget_less_the_actual(said: str) -> None:
    text = f"（一）公务接待费\n公务接待费预算5万元，实际支出3.2万元，{said}1.8万元。"
    assert only(run(text), "1.8万元").status == "pass"
    assert only(run(text.replace("1.8万元", "2.8万元")), "2.8万元").status == "fail"


def test_a_share_is_of_the_figure_its_words_name_not_the_nearest() -> None:
    text = (
        "（一）支出情况\n部门整体支出1,580万元，其中基本支出1,080万元、项目支出500万元，"
        "基本支出占68.35%，项目支出占31.65%。"
    )
    r = run(text)
    assert [(c.status, texts(r, c)) for c in r.checks if c.rule == "ratio"] == [
        ("pass", ["68.35%", "1,080万元", "1,580万元"]),
        ("pass", ["31.65%", "500万元", "1,580万元"]),
    ]
    assert only(run(text.replace("31.65%", "33.65%")), "33.65%").status == "fail"


@pytest.mark.parametrize("assets, debts", [("资产总计", "负债合计"), ("资产总额", "负债总计")])
def test_net_assets_are_assets_less_debts_whatever_the_total_word(assets: str, debts: str) -> None:
    text = f"（一）资产情况\n2023年{assets}为3,210.55万元，{debts}为410.55万元，净资产为2,800.00万元。"
    assert only(run(text), "2,800.00万元").status == "pass"
    assert only(run(text.replace("2,800.00", "2,900.00")), "2,900.00万元").status == "fail"


@pytest.mark.parametrize(
    "sentence, status",
    [
        ("2023年共有在职人员32人，较2022年的30人增加2人。", "pass"),
        ("2023年共有在职人员32人，较2022年的30人增加3人。", "fail"),
    ],
)
def test_a_change_of_a_head_count_between_two_stated_counts(sentence: str, status: str) -> None:
    r = report_from_text("某局2023年度部门整体支出绩效自评报告\n（一）人员情况\n" + sentence)
    (check,) = [c for c in r.checks if c.rule == "difference"]
    assert check.status == status and [f.unit for f in r.figures] == ["人", "人", "人"]


def test_a_rate_with_its_budget_named_right_after_it() -> None:
    text = "（一）预算执行\n实际支出285万元，预算执行率95%，全年预算300万元。"
    check = only(run(text), "95%")
    assert (check.status, texts(run(text), check)) == ("pass", ["95%", "285万元", "300万元"])
    assert only(run(text.replace("95%", "97%")), "97%").status == "fail"
    # a budget after a semicolon belongs to the next item
    other = run("（一）预算执行\nA项目实际支出285万元，执行率95%；B项目全年预算300万元。")
    assert only(other, "95%").status == "unverifiable"


@pytest.mark.parametrize(
    "sentence, rate",
    [
        ("政府采购预算金额为86.5万元，实际采购金额为82.3万元，节约资金4.2万元，节约率4.86%。", "4.86%"),
        ("项目预算200万元，实际支出190万元，结余10万元，结余率5%。", "5%"),
    ],
)
def test_a_savings_rate_is_the_saving_over_the_budget(sentence: str, rate: str) -> None:
    r = run("（一）预算执行\n" + sentence)
    check = only(r, rate)
    assert check.status == "pass" and check.detector == "savings"
    slip = run("（一）预算执行\n" + sentence.replace(rate, "9.99%"))
    assert only(slip, "9.99%").status == "fail"
