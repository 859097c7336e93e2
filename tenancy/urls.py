from django.urls import path

from . import views

urlpatterns = [
    path("", views.settings_index, name="settings-index"),
    path("tenant/switch/", views.tenant_switch, name="tenant-switch"),
    path("company/", views.tenant_settings, name="tenant-settings"),
    path("members/", views.member_list, name="members"),
    path("members/<int:pk>/", views.member_change, name="member-change"),
    path("registers/", views.register_index, name="register-index"),
    path("registers/<str:register>/", views.register_detail, name="register-detail"),
    path("registers/<str:register>/<int:pk>/", views.register_detail, name="register-edit"),
    path("api-keys/", views.api_key_list, name="api-keys"),
    path("api-keys/<str:prefix>/revoke/", views.api_key_revoke, name="api-key-revoke"),
]
