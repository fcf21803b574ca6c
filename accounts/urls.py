from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("welcome/", views.handoff, name="handoff"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password-reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("account/", views.account, name="account"),
    path("account/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("account/email/", views.email_change, name="email_change"),
    path("account/email/confirm/<str:token>/", views.email_change_confirm, name="email_change_confirm"),
    path("account/sessions/end-others/", views.sessions_end_others, name="sessions_end_others"),
    path("team/", views.team, name="team"),
    path("team/invitations/<int:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("team/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("team/members/<int:pk>/role/", views.member_role, name="member_role"),
    path("team/members/<int:pk>/deactivate/", views.member_deactivate, name="member_deactivate"),
    path("team/members/<int:pk>/reactivate/", views.member_reactivate, name="member_reactivate"),
    path("team/members/<int:pk>/make-owner/", views.ownership_transfer, name="ownership_transfer"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
