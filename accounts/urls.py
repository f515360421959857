from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="login"),
    path("sign-in/code/", views.one_time_code, name="otp"),
    path("sign-in/set-up/", views.enrol, name="enrol"),
    path("sign-out/", views.sign_out, name="logout"),
]
