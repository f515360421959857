from django.urls import path

from accounts import audit_views

app_name = "audit"

urlpatterns = [
    path("", audit_views.index, name="index"),
    path("people/<uuid:person_id>/", audit_views.person_trail, name="person"),
    path("staff/<int:user_id>/", audit_views.staff_trail, name="staff"),
]
