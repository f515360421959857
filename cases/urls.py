from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("search/", views.case_search, name="search"),
    path("<int:case_id>/", views.case_detail, name="detail"),
    path(
        "<int:case_id>/contacts/<uuid:contact_id>/reveal/",
        views.contact_reveal,
        name="contact_reveal",
    ),
    path("<int:case_id>/people/<uuid:person_id>/ssn/", views.ssn_reveal, name="ssn_reveal"),
]
