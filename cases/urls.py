from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("search/", views.case_search, name="search"),
    path("break-glass/", views.break_glass, name="break_glass"),
    path("new/", views.case_open, name="open"),
    path("<int:case_id>/edit/", views.case_edit, name="edit"),
    path("<int:case_id>/participants/new/", views.participant_add, name="participant_add"),
    path("<int:case_id>/assign/", views.case_assign, name="assign"),
    path(
        "<int:case_id>/people/<uuid:person_id>/contacts/new/",
        views.contact_add,
        name="contact_add",
    ),
    path("<int:case_id>/people/<uuid:person_id>/edit/", views.person_edit, name="person_edit"),
    path("<int:case_id>/contacts/<uuid:contact_id>/end/", views.contact_end, name="contact_end"),
    path("<int:case_id>/orders/new/", views.order_record, name="order_record"),
    path("<int:case_id>/notes/new/", views.note_add, name="note_add"),
    path("<int:case_id>/", views.case_detail, name="detail"),
    path(
        "<int:case_id>/contacts/<uuid:contact_id>/reveal/",
        views.contact_reveal,
        name="contact_reveal",
    ),
    path("<int:case_id>/people/<uuid:person_id>/ssn/", views.ssn_reveal, name="ssn_reveal"),
]
