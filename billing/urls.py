from django.urls import path

from billing import views

app_name = "billing"
urlpatterns = [
    path("", views.billing, name="billing"),
    path("checkout/", views.checkout, name="checkout"),
    path("portal/", views.portal, name="portal"),
    path("return/", views.checkout_return, name="return"),
]
