from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("twilio/status/", views.twilio_status, name="twilio-status"),
    path("twilio/inbound/", views.twilio_inbound, name="twilio-inbound"),
    path("anymail/<slug:esp>/tracking/", views.anymail_tracking, name="anymail-tracking"),
]
