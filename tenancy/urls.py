from django.urls import path

from . import views, views_mfa

urlpatterns = [
    path("", views.settings_index, name="settings-index"),
    path("tenant/switch/", views.tenant_switch, name="tenant-switch"),
    path("company/", views.tenant_settings, name="tenant-settings"),
    path("members/", views.member_list, name="members"),
    path("members/<int:pk>/", views.member_change, name="member-change"),
    path("members/<int:pk>/two-factor/reset/", views_mfa.mfa_reset, name="mfa-reset"),
    # Two-factor sign-in, each user their own (tenancy/mfa.py); the code step is public.
    path("two-factor/", views_mfa.mfa_setup, name="mfa-setup"),
    path("two-factor/start/", views_mfa.mfa_start, name="mfa-start"),
    path("two-factor/confirm/", views_mfa.mfa_confirm, name="mfa-confirm"),
    path("two-factor/recovery-codes/", views_mfa.mfa_recovery_codes, name="mfa-recovery-codes"),
    path("two-factor/off/", views_mfa.mfa_disable, name="mfa-disable"),
    path("registers/", views.register_index, name="register-index"),
    path("registers/<str:register>/", views.register_detail, name="register-detail"),
    path("registers/<str:register>/<int:pk>/", views.register_detail, name="register-edit"),
    path("api-keys/", views.api_key_list, name="api-keys"),
    path("api-keys/<str:prefix>/revoke/", views.api_key_revoke, name="api-key-revoke"),
]
