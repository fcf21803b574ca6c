"""The operators' two-factor enrolment page (accounts/operator_otp.py), on the public host."""

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts import operator_otp


@require_http_methods(["GET", "POST"])
def enrol(request, token):
    try:
        context = operator_otp.enrolment_page(token)
        if request.method == "POST":
            codes = operator_otp.enrolment_confirm(token=token, code=request.POST.get("code", ""))
            return render(request, "accounts/operator_2fa_done.html", {"codes": codes})
    except operator_otp.EnrolmentError as error:
        if request.method == "POST" and "context" in locals():
            return render(request, "accounts/operator_2fa.html", {**context, "error": str(error)}, status=400)
        return render(request, "accounts/operator_2fa_invalid.html", {"message": str(error)}, status=400)
    return render(request, "accounts/operator_2fa.html", context)
