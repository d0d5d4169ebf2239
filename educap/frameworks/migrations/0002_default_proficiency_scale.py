from django.db import migrations

LEVELS = [
    (
        0,
        "0",
        {"en": "None", "ar": "لا يوجد", "fr": "Aucun", "lo": "ບໍ່ມີ"},
        {
            "en": "No knowledge or experience of this competency yet.",
            "ar": "لا توجد بعد معرفة أو خبرة بهذه الكفاءة.",
            "fr": "Pas encore de connaissance ni d'expérience de cette compétence.",
            "lo": "ຍັງບໍ່ມີຄວາມຮູ້ ຫຼື ປະສົບການກ່ຽວກັບສະມັດຕະພາບນີ້.",
        },
    ),
    (
        1,
        "1",
        {"en": "Awareness", "ar": "وعي", "fr": "Sensibilisation", "lo": "ຮັບຮູ້"},
        {
            "en": "Knows the basic concepts and can follow instructions with close guidance.",
            "ar": "يعرف المفاهيم الأساسية ويستطيع اتباع التعليمات بتوجيه مباشر.",
            "fr": "Connaît les notions de base et suit des consignes avec un encadrement étroit.",
            "lo": "ຮູ້ແນວຄິດພື້ນຖານ ແລະ ປະຕິບັດຕາມຄຳແນະນຳໄດ້ພາຍໃຕ້ການຊີ້ນຳຢ່າງໃກ້ຊິດ.",
        },
    ),
    (
        2,
        "2",
        {"en": "Working", "ar": "عملي", "fr": "Opérationnel", "lo": "ປະຕິບັດໄດ້"},
        {
            "en": "Applies the competency in routine tasks with occasional support.",
            "ar": "يطبق الكفاءة في المهام الروتينية مع دعم عرضي.",
            "fr": "Applique la compétence dans les tâches courantes avec un appui ponctuel.",
            "lo": "ນຳໃຊ້ສະມັດຕະພາບໃນວຽກປົກກະຕິ ໂດຍມີການຊ່ວຍເຫຼືອບາງຄັ້ງ.",
        },
    ),
    (
        3,
        "3",
        {"en": "Proficient", "ar": "متمكن", "fr": "Maîtrise", "lo": "ຊຳນານ"},
        {
            "en": "Works independently, handles non-routine cases and helps colleagues.",
            "ar": "يعمل باستقلالية ويعالج الحالات غير الروتينية ويساعد زملاءه.",
            "fr": "Travaille en autonomie, traite les cas non courants et aide ses collègues.",
            "lo": "ເຮັດວຽກໄດ້ຢ່າງເປັນອິດສະຫຼະ, ແກ້ໄຂກໍລະນີພິເສດ ແລະ ຊ່ວຍເພື່ອນຮ່ວມງານ.",
        },
    ),
    (
        4,
        "4",
        {"en": "Expert", "ar": "خبير", "fr": "Expert", "lo": "ຊ່ຽວຊານ"},
        {
            "en": "Leads, improves practice across the organisation and trains others.",
            "ar": "يقود ويطوّر الممارسة على مستوى المؤسسة ويدرّب الآخرين.",
            "fr": "Pilote, améliore les pratiques de l'organisation et forme les autres.",
            "lo": "ນຳພາ, ປັບປຸງວິທີປະຕິບັດທົ່ວອົງກອນ ແລະ ຝຶກອົບຮົມຜູ້ອື່ນ.",
        },
    ),
]


def create_default_scale(apps, schema_editor):
    scale_model = apps.get_model("frameworks", "ProficiencyScale")
    level_model = apps.get_model("frameworks", "ScaleLevel")
    scale, created = scale_model.objects.get_or_create(
        code="default-5",
        defaults={
            "identifier": "5b0a8f4e-5c1d-4d7e-9b7a-2a4f0e6d0001",
            "name": "Five-level proficiency scale",
            "name_en": "Five-level proficiency scale",
            "name_ar": "سلّم الإتقان ذو المستويات الخمسة",
            "name_fr": "Échelle de maîtrise à cinq niveaux",
            "name_lo": "ຂັ້ນລະດັບຄວາມຊຳນານ 5 ລະດັບ",
        },
    )
    if not created:
        return
    for value, code, names, descriptors in LEVELS:
        level_model.objects.create(
            scale=scale,
            value=value,
            code=code,
            name=names["en"],
            descriptor=descriptors["en"],
            **{f"name_{lang}": text for lang, text in names.items()},
            **{f"descriptor_{lang}": text for lang, text in descriptors.items()},
        )


class Migration(migrations.Migration):
    dependencies = [("frameworks", "0001_competency_frameworks")]
    operations = [migrations.RunPython(create_default_scale, migrations.RunPython.noop)]
