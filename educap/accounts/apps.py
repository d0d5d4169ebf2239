from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "educap.accounts"
    label = "accounts"

    def ready(self) -> None:
        from educap.accounts import signals  # noqa: F401
