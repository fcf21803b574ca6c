"""The operators' two-factor enrolment page (accounts/operator_otp.py), on the public host: password (and a
current code) first, then the QR code, then a first code from the app, then the recovery codes."""

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts import operator_otp
from accounts.throttle import attempt_count, is_throttled


@require_http_methods(["GET", "POST"])
def enrol(request, token):
    try:
        needs_code = operator_otp.enrolment_needs_current_code(token)
    except operator_otp.EnrolmentError as error:
        return render(request, "accounts/operator_2fa_invalid.html", {"message": str(error)}, status=400)
    unlock_form = {"needs_code": needs_code}
    if request.method == "GET":
        return render(request, "accounts/operator_2fa_unlock.html", unlock_form)
    if "unlock" not in request.POST:
        if is_throttled(request, email=token, group="operator-2fa"):
            return render(request, "429.html", status=429)
        try:
            unlock = operator_otp.enrolment_unlock(
                token=token, password=request.POST.get("password", ""), current_code=request.POST.get("current", "")
            )
        except operator_otp.EnrolmentError as error:
            attempt_count(request, email=token, group="operator-2fa")
            return render(
                request, "accounts/operator_2fa_unlock.html", {**unlock_form, "error": str(error)}, status=400
            )
        return render(request, "accounts/operator_2fa.html", operator_otp.enrolment_page(token=token, unlock=unlock))
    unlock = request.POST["unlock"]
    try:
        context = operator_otp.enrolment_page(token=token, unlock=unlock)
        codes = operator_otp.enrolment_confirm(token=token, unlock=unlock, code=request.POST.get("code", ""))
    except operator_otp.EnrolmentError as error:
        if "context" in locals():
            return render(request, "accounts/operator_2fa.html", {**context, "error": str(error)}, status=400)
        return render(request, "accounts/operator_2fa_unlock.html", {**unlock_form, "error": str(error)}, status=400)
    return render(request, "accounts/operator_2fa_done.html", {"codes": codes})
