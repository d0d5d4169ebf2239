from django import forms
from django.utils.translation import gettext_lazy as _

from educap.frameworks.models import ItemKind


class ItemForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ItemKind.choices)
    code = forms.CharField(label=_("Code"), max_length=100)
    statement_en = forms.CharField(label=_("Statement (English)"), max_length=500)
    statement_ar = forms.CharField(label=_("Statement (Arabic)"), max_length=500, required=False)
    statement_fr = forms.CharField(label=_("Statement (French)"), max_length=500, required=False)
    statement_lo = forms.CharField(label=_("Statement (Lao)"), max_length=500, required=False)
    description_en = forms.CharField(
        label=_("Description (English)"), required=False, widget=forms.Textarea
    )
    keywords = forms.CharField(label=_("Keywords"), max_length=300, required=False)


class NewVersionForm(forms.Form):
    version = forms.CharField(label=_("New version number"), max_length=40)


LANGS = (("en", _("English")), ("ar", _("Arabic")), ("fr", _("French")), ("lo", _("Lao")))


class ItemEditForm(forms.Form):
    """An item's texts in every language, and what it looks like at each level."""

    code = forms.CharField(label=_("Code"), max_length=100)
    keywords = forms.CharField(label=_("Keywords"), max_length=300, required=False)

    def __init__(
        self,
        *args: object,
        levels: list,  # type: ignore[type-arg]
        parents: list[tuple[str, str]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.levels = levels
        self.fields["parent"] = forms.ChoiceField(
            label=_("Under"), choices=[("", _("(top level)")), *parents], required=False
        )
        for lang, name in LANGS:
            self.fields[f"statement_{lang}"] = forms.CharField(
                label=_("Statement (%(language)s)") % {"language": name},
                max_length=500,
                required=lang == "en",
            )
            self.fields[f"description_{lang}"] = forms.CharField(
                label=_("Description (%(language)s)") % {"language": name},
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            for level in levels:
                self.fields[f"indicator_{level.pk}_{lang}"] = forms.CharField(
                    label=_("Level %(value)s (%(language)s)")
                    % {"value": level.value, "language": name},
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 2}),
                )
