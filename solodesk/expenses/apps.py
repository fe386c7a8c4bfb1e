from django.apps import AppConfig


class ExpensesConfig(AppConfig):
    name = "solodesk.expenses"
    label = "expenses"
