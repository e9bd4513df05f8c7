"""The churn reason codes and their plain-language labels, shared by every churn module.

Kept apart from :mod:`custkit.churn.text` so that tables and plots can name reasons without
importing scikit-learn.
"""

from custkit.i18n import N_, _

__all__ = ["NO_SIGN_LABEL", "REASON_CODES", "REASON_LABELS", "reason_label"]

#: Why a customer left, in the order reports list them. ``unknown``: the text names no reason.
REASON_CODES = (
    "forgot",
    "delivery_cost",
    "competitor_price",
    "moved_out_of_delivery_area",
    "quality",
    "delivery",
    "support",
    "unknown",
)

#: Plain-language label of each reason code, for report tables and charts, in English: shown
#: through :func:`reason_label`, which translates it into the report language.
REASON_LABELS = {
    "forgot": "Forgot about the store",
    "delivery_cost": "Delivery costs too much",
    "competitor_price": "Cheaper elsewhere",
    "moved_out_of_delivery_area": "Moved out of the delivery area",
    "quality": "Product quality",
    "delivery": "Late or failed delivery",
    "support": "Poor customer support",
    "unknown": "No reason given",
}


#: What ``forgot`` means when the store has no feedback: no sign of a reason in the orders, which
#: a customer who forgot the store and one who left for a reason the orders do not show share.
NO_SIGN_LABEL = N_("No sign of a reason in the data")


def reason_label(code: str, tells_forgot: bool = True) -> str:
    """The label of reason *code* in the report language (the code itself when unknown).

    With *tells_forgot* False (no feedback: :attr:`custkit.churn.ReasonAssignment.tells_forgot`)
    ``forgot`` is labelled :data:`NO_SIGN_LABEL`: the data cannot tell forgetting apart from a
    reason it does not record.
    """
    if code == "forgot" and not tells_forgot:
        return _(NO_SIGN_LABEL)
    return _(REASON_LABELS.get(code, code))
