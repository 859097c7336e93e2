"""Pages that belong to no single app: the start page (the dashboard, reports/) and login."""

from django.contrib.auth import views as auth_views

from config.forms import LoginForm
from reports.views_dashboard import dashboard_page as home  # noqa: F401  (the home page)


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True
