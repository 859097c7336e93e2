"""Pages that belong to no single app: the start page (the dashboard, reports/) and login."""

from urllib.parse import urlencode

from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.urls import reverse

from config.forms import LoginForm
from reports.views_dashboard import dashboard_page as home  # noqa: F401  (the home page)
from tenancy.mfa import has_second_factor


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        if has_second_factor(form.get_user()):
            # The password is one step: the code from the app comes next (tenancy/mfa_gate.py
            # holds every company page until it does).
            query = urlencode({"next": self.get_success_url()})
            return redirect(f"{reverse('mfa-verify')}?{query}")
        return response
