import pytest

from custkit.errors import ParamsError, ReportError
from custkit.reports.parameters import parse_overrides, resolve_parameters
from custkit.reports.registry import get_report, list_reports

AUDIT_PARAMETERS = (
    "lapse_days = 365  # days without an order before a customer counts as lapsed\n"
    "recency_days = [30, 90, 180]\n"
    "churn_norm = 0.2\n"
    "segment_label = 'rfm'\n"
    "include_returns = False\n"
    "extra = None\n"
)


@pytest.fixture
def audit(notebooks, write_notebook, reserved_cell):
    write_notebook(
        notebooks / "audit.ipynb",
        reserved_cell + AUDIT_PARAMETERS,
        [("md", "# Customer audit\nIntro.")],
    )
    return "audit"


def test_defaults_come_from_the_notebook_parameters_cell(audit, fake_params):
    values = resolve_parameters(audit, fake_params())
    assert values == {
        "lapse_days": 365,
        "recency_days": [30, 90, 180],
        "churn_norm": 0.2,
        "segment_label": "rfm",
        "include_returns": False,
        "extra": None,
    }


def test_params_section_overrides_defaults_and_set_overrides_both(audit, fake_params):
    params = fake_params(reports={"audit": {"lapse_days": 300, "churn_norm": 0.25}})
    values = resolve_parameters(audit, params, {"lapse_days": "200"})
    assert values["lapse_days"] == 200
    assert values["churn_norm"] == 0.25


def test_set_values_are_parsed_as_yaml(audit, fake_params):
    values = resolve_parameters(
        audit,
        fake_params(),
        parse_overrides(["recency_days=[30,60]", "include_returns=true", "segment_label=2026"]),
    )
    assert values["recency_days"] == [30, 60]
    assert values["include_returns"] is True
    assert values["segment_label"] == "2026"  # a string parameter keeps the text as typed


def test_int_is_accepted_where_a_float_is_expected(audit, fake_params):
    assert resolve_parameters(audit, fake_params(), {"churn_norm": "1"})["churn_norm"] == 1.0


def test_unknown_key_error_names_key_report_close_match_and_valid_names(audit, fake_params):
    params = fake_params(path="shop.yaml", reports={"audit": {"lapse_dayz": 100}})
    with pytest.raises(ParamsError) as error:
        resolve_parameters(audit, params)
    message = str(error.value)
    assert "audit parameter 'lapse_dayz' does not exist" in message
    assert "Did you mean 'lapse_days'?" in message
    assert "shop.yaml" in message
    assert "lapse_days, recency_days, churn_norm" in message


def test_type_mismatch_is_reported_in_sklearn_style(audit, fake_params):
    with pytest.raises(
        ParamsError,
        match=r"audit parameter 'lapse_days' must be an int\. "
        r"Got 'abc' \(str\) instead",
    ):
        resolve_parameters(audit, fake_params(), {"lapse_days": "abc"})


def test_int_where_a_list_is_expected_is_rejected(audit, fake_params):
    with pytest.raises(ParamsError, match=r"'recency_days' must be a list of int\. Got 30 \(int\)"):
        resolve_parameters(audit, fake_params(reports={"audit": {"recency_days": 30}}))


def test_bool_is_not_accepted_as_an_int(audit, fake_params):
    with pytest.raises(ParamsError, match="must be an int"):
        resolve_parameters(audit, fake_params(), {"lapse_days": "true"})


@pytest.mark.parametrize("name", ["period", "output_dir", "params_file"])
def test_reserved_names_cannot_be_set_by_users(audit, fake_params, name):
    with pytest.raises(ParamsError, match=f"'{name}' cannot be set"):
        resolve_parameters(audit, fake_params(reports={"audit": {name: "x"}}))
    with pytest.raises(ParamsError, match="the runner sets it"):
        resolve_parameters(audit, fake_params(), {name: "x"})


def test_set_without_equals_sign_is_rejected():
    with pytest.raises(ParamsError, match="name=value"):
        parse_overrides(["lapse_days"])


def test_registry_lists_reports_with_title_and_user_parameters(audit, notebooks):
    (report,) = list_reports()
    assert report.name == "audit"
    assert report.title == "Customer audit"
    assert report.notebook == notebooks / "audit.ipynb"
    assert "period" not in report.parameters
    lapse = report.parameters["lapse_days"]
    assert (lapse.default, lapse.type_name) == (365, "int")
    assert lapse.help == "days without an order before a customer counts as lapsed"


def test_unknown_report_suggests_the_close_name(audit):
    with pytest.raises(ParamsError, match="Did you mean 'audit'"):
        get_report("audti")


def test_notebook_without_reserved_parameters_is_an_error(notebooks, write_notebook):
    write_notebook(notebooks / "ltv.ipynb", "horizon_months = 12\n", [])
    with pytest.raises(ReportError, match="must declare params_file, period, output_dir"):
        get_report("ltv")


def test_parameter_papermill_cannot_read_is_an_error_not_a_silent_drop(
    notebooks, write_notebook, reserved_cell
):
    write_notebook(notebooks / "churn.ipynb", reserved_cell + "days = 90  # a => b\n", [])
    with pytest.raises(ReportError, match="cannot read the parameter"):
        get_report("churn")


@pytest.mark.parametrize(
    ("name", "replacement"),
    [("p_alive_churned", "churn_quantile"), ("p_alive_at_risk", "at_risk_quantile")],
)
@pytest.mark.parametrize("given_in", ["file", "set"])
def test_a_retired_parameter_says_what_replaced_it(fake_params, name, replacement, given_in):
    # params files written for the P(alive) churn rule (before issue 14) name its thresholds
    churn = get_report("churn")
    if given_in == "file":
        params, overrides = fake_params(path="shop.yaml", reports={"churn": {name: 0.3}}), None
    else:
        params, overrides = fake_params(), {name: "0.3"}
    with pytest.raises(ParamsError, match=f"'{name}'.*retired.*{replacement}"):
        resolve_parameters(churn, params, overrides)
    assert name not in churn.parameters and replacement in churn.parameters
