from django.urls import path

from safety import run_views, views

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
    path("held-notices/", views.held_notices, name="held_notices"),
    path("held-notices/<int:notice_id>/cancel/", views.notice_cancel, name="notice_cancel"),
    path("cases/<int:case_id>/review/", views.safety_review, name="review"),
    path("cases/<int:case_id>/people/<uuid:person_id>/acp/", views.acp_record, name="acp"),
    path("cases/<int:case_id>/plan/", views.safety_plan, name="plan"),
    path("cases/<int:case_id>/court-holds/new/", views.court_hold_add, name="court_hold_add"),
    path(
        "cases/<int:case_id>/court-holds/<int:hold_id>/lift/",
        views.court_hold_lift,
        name="court_hold_lift",
    ),
    path("held-notices/<int:notice_id>/", views.notice_review, name="notice_review"),
    path("held-notices/<int:notice_id>/keep/", views.notice_keep, name="notice_keep"),
    path("held-notices/<int:notice_id>/release/", views.notice_release, name="notice_release"),
    # The supervisors' view of notice runs.
    path("notice-runs/", run_views.notice_runs, name="notice_runs"),
    path(
        "notice-runs/<int:run_id>/progress/",
        run_views.notice_run_progress,
        name="notice_run_progress",
    ),
]
