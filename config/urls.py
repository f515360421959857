"""Every URL's view carries an access rule (accounts/access.py); the admin's views
get theirs from protect_patterns. tests/test_url_access.py enforces this."""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from accounts.access import DJANGO_ADMIN, PUBLIC, access, protect_patterns
from config import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", access(PUBLIC)(set_language), name="set_language"),
    path("accounts/", include("accounts.urls")),
    path("cases/", include("cases.urls")),
    path("safety/", include("safety.urls")),
    path("audit/", include("accounts.audit_urls")),
    path("admin/", protect_patterns(admin.site.urls, DJANGO_ADMIN)),
]
