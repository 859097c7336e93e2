"""SMS replies that decided nothing (/consent/replies/…): consent.request."""

from django.urls import path

from . import views_replies as v

urlpatterns = [
    path("replies/", v.reply_list, name="consent-replies"),
    path("replies/<int:pk>/assign/", v.reply_assign, name="consent-reply-assign"),
    path("replies/<int:pk>/dismiss/", v.reply_dismiss, name="consent-reply-dismiss"),
]
