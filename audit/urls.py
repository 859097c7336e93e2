from django.urls import path

from . import views

urlpatterns = [path("", views.audit_event_browse, name="audit-events")]
