from django.urls import path

from visualization import views

app_name = "visualization"
urlpatterns = [
    path("", views.home, name="home"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("cases/<int:case_id>/runs/<int:run_id>/", views.run_detail, name="run"),
    path("assets/plotly.min.js", views.plotly_js, name="plotly-js"),
]
