from django.urls import path

from safety import views

app_name = "safety"

urlpatterns = [
    path("cases/<int:case_id>/people/<uuid:person_id>/fvi/", views.fvi_set, name="fvi_set"),
    path(
        "cases/<int:case_id>/fvi/<int:fvi_id>/remove/",
        views.fvi_removal_request,
        name="fvi_removal_request",
    ),
    path(
        "cases/<int:case_id>/fvi-removals/<int:request_id>/approve/",
        views.fvi_removal_approve,
        name="fvi_removal_approve",
    ),
    path(
        "cases/<int:case_id>/fvi-removals/<int:request_id>/cancel/",
        views.fvi_removal_cancel,
        name="fvi_removal_cancel",
    ),
]
