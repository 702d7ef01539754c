"""Naming cultures for the evaluation set: names as their own script or sounds, rendered by
several romanisation schemes implemented here independently of the engine's rules.

Each culture gives family names, female and male given names, and the nationality. Cyrillic
names are written in Cyrillic and romanised by four schemes (ICAO 9303, BGN/PCGN-like,
German, French); Arabic names are written as sounds and romanised by four schemes (scholarly,
English popular, French, Egyptian). Latin-script names carry their diacritics.
"""

# Cyrillic letters are intended.
# ruff: noqa: RUF001, E501

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = [
    "ARABIC_SCHEMES",
    "CULTURES",
    "CYRILLIC_SCHEMES",
    "Culture",
    "romanise_arabic",
    "romanise_cyrillic",
]


@dataclass(frozen=True, slots=True)
class Culture:
    """Names of one culture."""

    name: str
    nationality: str
    families: tuple[str, ...]
    female: tuple[str, ...]
    male: tuple[str, ...]
    script: str = "Latn"
    """"Latn", "Cyrl" (names in Cyrillic) or "Arab-sounds" (names as Arabic sounds)."""
    compound_surnames: bool = False
    """Two family names (Spanish, Portuguese)."""


def _w(text: str) -> tuple[str, ...]:
    return tuple(text.split(","))


CULTURES: tuple[Culture, ...] = (
    Culture(
        "russian",
        "RUS",
        _w(
            "Иванов,Смирнов,Кузнецов,Попов,Васильев,Петров,Соколов,Михайлов,Новиков,Фёдоров,Морозов,Волков,Алексеев,Лебедев,Семёнов,Егоров,Павлов,Козлов,Степанов,Николаев,Орлов,Андреев,Макаров,Никитин,Захаров,Зайцев,Соловьёв,Борисов,Яковлев,Григорьев,Романов,Воробьёв,Сергеев,Кузьмин,Фролов,Александров,Дмитриев,Королёв,Гусев,Киселёв,Ильин,Максимов,Поляков,Сорокин,Виноградов,Ковалёв,Белов,Медведев,Антонов,Тарасов,Жуков,Баранов,Филиппов,Комаров,Давыдов,Беляев,Герасимов,Богданов,Осипов,Сидоров,Матвеев,Титов,Марков,Миронов,Крылов,Куликов,Карпов,Власов,Мельников,Денисов,Гаврилов,Тихонов,Казаков,Афанасьев,Данилов,Савельев,Тимофеев,Фомин,Чернов,Абрамов,Мартынов,Ефимов,Федотов,Щербаков,Назаров,Калинин,Исаев,Чернышёв,Быков,Маслов,Родионов,Коновалов,Лазарев,Воронин,Климов,Филатов,Пономарёв,Голубев,Кудрявцев,Прохоров,Наумов,Потапов,Журавлёв,Овчинников,Трофимов,Леонов,Соболев,Ермаков,Колесников,Гончаров,Емельянов,Никифоров,Грачёв,Котов,Гришин,Ефремов,Архипов,Громов,Кириллов,Малышев,Панов,Моисеев,Румянцев,Акимов,Кондратьев,Бирюков,Горбунов,Анисимов,Еремин,Тихомиров,Галкин,Лукьянов,Михеев,Скворцов,Юдин,Белоусов,Нестеров,Симонов,Прокофьев,Харитонов,Князев,Цветков,Левин,Митрофанов,Воронцов,Аксёнов,Софронов,Мальцев,Логинов,Горшков,Савин,Краснов,Майоров,Демидов,Елисеев,Рыбаков,Сафонов,Плотников,Дёмин,Хохлов,Жданов"
        ),
        _w(
            "Анна,Мария,Елена,Ольга,Наталья,Ирина,Светлана,Татьяна,Екатерина,Юлия,Анастасия,Дарья,Ксения,Людмила,Галина,Валентина,Вера,Надежда,Любовь,Алёна"
        ),
        _w(
            "Александр,Сергей,Дмитрий,Андрей,Алексей,Максим,Евгений,Иван,Михаил,Артём,Николай,Владимир,Юрий,Павел,Олег,Виктор,Игорь,Константин,Фёдор,Григорий,Василий,Пётр,Вячеслав,Тимофей"
        ),
        script="Cyrl",
    ),
    Culture(
        "ukrainian",
        "UKR",
        _w(
            "Шевченко,Коваленко,Бондаренко,Ткаченко,Кравченко,Олійник,Шевчук,Поліщук,Бойко,Ткачук,Марченко,Руденко,Мельник,Савченко,Петренко,Клименко,Лисенко,Кузьменко,Павленко,Левченко,Харченко,Гончаренко,Мазур,Кушнір,Литвиненко,Сидоренко,Яковенко,Заїка,Головко,Зінченко,Юрченко,Кириленко,Назаренко,Гаврилюк,Антоненко,Климчук,Пономаренко,Костенко,Ігнатенко,Захарченко"
        ),
        _w(
            "Олена,Ірина,Наталія,Оксана,Тетяна,Юлія,Світлана,Галина,Людмила,Ганна,Катерина,Марія,Вікторія,Софія"
        ),
        _w(
            "Олександр,Андрій,Сергій,Володимир,Олексій,Дмитро,Юрій,Іван,Тарас,Богдан,Микола,Василь,Петро,Михайло,Євген"
        ),
        script="Cyrl",
    ),
    Culture(
        "arabic-levant",
        "SYR",
        _w(
            "al-Hashimi,Haddad,Khoury,Mansur,al-Masri,Jabir,Salih,Hamdan,al-Sharif,Shahin,Darwish,Nasrallah,al-Khatib,Qasim,Hijazi,Yasin,al-Ali,Sulayman,Ashur,Zaydan,Bakri,Najjar,Sabbagh,Halabi,al-Ahmad,Ibrahim,Uthman,Rashid,al-Hasan,Dabbagh,Khalil,Mustafa,Qabbani,Attar,Farhat,Ghanim,Hariri,Jumayyil,Kurdi,Maluf"
        ),
        _w(
            "Fatima,Aisha,Maryam,Zaynab,Khadija,Layla,Nur,Huda,Salma,Rania,Yasmin,Amal,Hanan,Samira"
        ),
        _w(
            "Muhammad,Ahmad,Husayn,Yusuf,Khalid,Abd al-Rahman,Hasan,Umar,Ali,Ibrahim,Mustafa,Tariq,Karim,Jamal,Walid,Nasir,Said,Mahmud,Abd Allah,Abd al-Aziz,Hamza,Bilal,Zakariya,Ismail"
        ),
        script="Arab-sounds",
    ),
    Culture(
        "arabic-maghreb",
        "DZA",
        _w(
            "Bouzid,Benali,Haddad,Mansur,Brahimi,Belkacem,Saidi,Hamidi,Zitouni,Mebarki,Boudiaf,Benamar,Khelifa,Djaballah,Ouahab,Laribi,Chaouch,Bensalah,Rahmani,Yahyaoui,Amrani,Kaci,Ferhat,Medjdoub,Taleb,Ghazi,Bouazza,Larbi,Slimani,Meziane"
        ),
        _w("Fatima,Aisha,Maryam,Khadija,Nur,Samira,Karima,Nadia,Amina,Yamina,Zahra,Malika"),
        _w(
            "Muhammad,Ahmad,Yusuf,Khalid,Abd al-Qadir,Umar,Ali,Mustafa,Karim,Jamal,Rashid,Said,Abd al-Hamid,Nur al-Din,Salim,Hakim,Ismail,Mahmud"
        ),
        script="Arab-sounds",
    ),
    Culture(
        "german",
        "DEU",
        _w(
            "Müller,Schäfer,Weiß,Groß,Schmidt,Köhler,Schröder,Krüger,Böhm,Jäger,Schulze,Hoffmann,Schäfer,Koch,Bäcker,Richter,Klein,Wolf,Schröter,Neumann,Schwarz,Zimmermann,Braun,Hofmann,Hartmann,Lange,Schmitt,Werner,Krause,Meier,Lehmann,Günther,Möller,Köster,Förster,Vögele,Lübke,Dörr,Fuchs,Brückner,Jürgens,Wöhler,Grün,Mühlbauer,Fröhlich,Ströbel,Hübner,Kühn,Pöschl,Rößler"
        ),
        _w(
            "Jürgen,Anna-Lena,Sophie,Käthe,Sabine,Ursula,Monika,Brigitte,Jörg,Lena,Jana,Lea,Hannah,Sünje"
        ),
        _w(
            "Jürgen,Lukas,Maximilian,Björn,Jörg,Günter,Uwe,Klaus,Stefan,Thomas,Michael,Andreas,Matthias,Dieter,Rüdiger,Sören"
        ),
    ),
    Culture(
        "swedish",
        "SWE",
        _w(
            "Eriksson,Andersson,Johansson,Karlsson,Nilsson,Larsson,Olsson,Persson,Svensson,Gustafsson,Pettersson,Jönsson,Jansson,Hansson,Bengtsson,Jönsson,Lindberg,Lindström,Lindqvist,Lindgren,Berglund,Fredriksson,Sandberg,Henriksson,Forsberg,Sjöberg,Wallin,Engström,Eklund,Danielsson,Håkansson,Lundgren,Björk,Öberg,Åberg,Lundström,Sjöström,Näslund,Söderberg,Ström"
        ),
        _w("Anna,Maria,Eva,Karin,Kristina,Lena,Sara,Ingrid,Emma,Malin,Åsa,Linnéa,Märta,Sofia"),
        _w("Lars,Anders,Johan,Per,Erik,Karl,Peter,Jan,Mikael,Hans,Björn,Åke,Göran,Sören,Olof,Nils"),
    ),
    Culture(
        "spanish",
        "ESP",
        _w(
            "García,Fernández,González,Rodríguez,López,Martínez,Sánchez,Pérez,Gómez,Martín,Jiménez,Ruiz,Hernández,Díaz,Moreno,Muñoz,Álvarez,Romero,Alonso,Gutiérrez,Navarro,Torres,Domínguez,Vázquez,Ramos,Gil,Ramírez,Serrano,Blanco,Molina,Morales,Suárez,Ortega,Delgado,Castro,Ortiz,Rubio,Marín,Sanz,Núñez,Iglesias,Medina,Garrido,Cortés,Castillo,Santos,Lozano,Guerrero,Cano,Prieto"
        ),
        _w(
            "María José,Lucía,Carmen,Ana María,Isabel,Laura,Cristina,Marta,Pilar,Dolores,Nuria,Raquel,Ángela,Inés"
        ),
        _w(
            "José Antonio,Íñigo,Javier,Manuel,Francisco,David,Juan Carlos,Jesús,Alejandro,Miguel Ángel,Rafael,Pablo,Sergio,Álvaro"
        ),
        compound_surnames=True,
    ),
    Culture(
        "portuguese",
        "BRA",
        _w(
            "Silva,Santos,Oliveira,Souza,Rodrigues,Ferreira,Alves,Pereira,Lima,Gomes,Costa,Ribeiro,Martins,Carvalho,Almeida,Lopes,Soares,Fernandes,Vieira,Barbosa,Rocha,Dias,Nascimento,Andrade,Moreira,Nunes,Marques,Machado,Mendes,Freitas,Cardoso,Ramos,Gonçalves,Santana,Teixeira,Araújo,Conceição,Magalhães,Simões,Brandão"
        ),
        _w(
            "Ana Júlia,Letícia,Beatriz,Maria Eduarda,Juliana,Fernanda,Camila,Larissa,Gabriela,Conceição,Luíza"
        ),
        _w("João Pedro,Thiago,Luís,Gustavo,Lucas,Matheus,Rafael,Felipe,Bruno,Rodrigo,Antônio,José"),
        compound_surnames=True,
    ),
    Culture(
        "french",
        "FRA",
        _w(
            "Martin,Bernard,Thomas,Petit,Robert,Richard,Durand,Dubois,Moreau,Laurent,Simon,Michel,Lefèvre,Leroy,Roux,David,Bertrand,Morel,Fournier,Girard,Bonnet,Dupont,Lambert,Fontaine,Rousseau,Vincent,Müller,Lefebvre,Faure,André,Mercier,Blanc,Guérin,Boyer,Garnier,Chevalier,François,Legrand,Gauthier,Garcia,Perrin,Robin,Clément,Morin,Nicolas,Henry,Roussel,Mathieu,Gautier,Masson"
        ),
        _w(
            "Élodie,Camille,Anne-Sophie,Inès,Chloé,Léa,Manon,Océane,Hélène,Céline,Amélie,Margaux,Noémie,Zoé"
        ),
        _w(
            "Jean-Luc,Théo,François,Mathis,Hugo,Léo,Clément,Jérôme,Sébastien,Frédéric,Benoît,Hervé,Gaël,Loïc"
        ),
    ),
    Culture(
        "polish",
        "POL",
        _w(
            "Nowak,Kowalski,Wiśniewski,Wójcik,Kowalczyk,Kamiński,Lewandowski,Zieliński,Szymański,Woźniak,Dąbrowski,Kozłowski,Jankowski,Mazur,Kwiatkowski,Krawczyk,Piotrowski,Grabowski,Nowakowski,Pawłowski,Michalski,Nowicki,Adamczyk,Dudek,Zając,Wieczorek,Jabłoński,Król,Majewski,Olszewski,Jaworski,Wróbel,Malinowski,Pawlak,Witkowski,Walczak,Stępień,Górski,Rutkowski,Michalak"
        ),
        _w(
            "Małgorzata,Agnieszka,Zofia,Katarzyna,Anna,Barbara,Ewa,Krystyna,Magdalena,Joanna,Żaneta,Urszula"
        ),
        _w(
            "Łukasz,Paweł,Krzysztof,Piotr,Tomasz,Andrzej,Michał,Marcin,Jakub,Grzegorz,Stanisław,Wojciech,Bartłomiej"
        ),
    ),
    Culture(
        "turkish",
        "TUR",
        _w(
            "Yılmaz,Kaya,Demir,Şahin,Çelik,Yıldız,Yıldırım,Öztürk,Aydın,Özdemir,Arslan,Doğan,Kılıç,Aslan,Çetin,Kara,Koç,Kurt,Özkan,Şimşek,Polat,Özer,Güneş,Erdoğan,Aktaş,Korkmaz,Çakır,Aksoy,Türk,Güler"
        ),
        _w("Ayşe,Fatma,Emine,Hatice,Zeynep,Elif,Meryem,Şerife,Özlem,Gülşen,Büşra,Esra"),
        _w(
            "Mehmet,Mustafa,Ahmet,Ali,Hüseyin,Hasan,İbrahim,İsmail,Osman,Yusuf,Murat,Ömer,Ramazan,Şükrü"
        ),
    ),
    Culture(
        "chinese",
        "CHN",
        _w(
            "Wang,Li,Zhang,Liu,Chen,Yang,Huang,Zhao,Wu,Zhou,Xu,Sun,Ma,Zhu,Hu,Guo,He,Gao,Lin,Luo,Zheng,Liang,Xie,Song,Tang,Han,Feng,Deng,Cao,Peng,Zeng,Xiao,Tian,Dong,Pan,Yuan,Cai,Jiang,Yu,Du"
        ),
        _w("Fang,Na,Min,Jing,Li,Yan,Hui,Ying,Xiu Ying,Xiaomei,Lei,Yu,Ting,Jie"),
        _w("Wei,Qiang,Lei,Jun,Yong,Jie,Tao,Ming,Chao,Hao,Gang,Ping,Hui,Bo,Xin,Long,Jian,Zhiwei"),
    ),
    Culture(
        "vietnamese",
        "VNM",
        _w("Nguyễn,Trần,Lê,Phạm,Hoàng,Huỳnh,Phan,Vũ,Võ,Đặng,Bùi,Đỗ,Hồ,Ngô,Dương,Lý"),
        _w(
            "Thị Lan,Thị Hoa,Thị Mai,Thị Hương,Ngọc Anh,Thu Trang,Thị Hằng,Phương Linh,Thùy Dung,Bích Ngọc"
        ),
        _w(
            "Văn Minh,Văn Hùng,Văn Nam,Đức Anh,Quốc Bảo,Minh Tuấn,Văn Thành,Hoàng Long,Quang Huy,Văn Dũng"
        ),
    ),
    Culture(
        "nigerian",
        "NGA",
        _w(
            "Okafor,Adeyemi,Eze,Balogun,Okonkwo,Adebayo,Nwosu,Ogunleye,Chukwu,Afolabi,Obi,Bello,Okeke,Adewale,Ibrahim,Abubakar,Musa,Olawale,Uche,Nnamdi,Oyelaran,Adeleke,Akinola,Ogbonna,Onyeka,Babatunde,Olatunji,Nwachukwu,Ikenna,Odukoya"
        ),
        _w(
            "Chiamaka,Ngozi,Folake,Adaeze,Funmilayo,Aisha,Blessing,Oluwaseun,Temitope,Chinwe,Yetunde,Amaka"
        ),
        _w(
            "Chukwuemeka,Olumide,Tunde,Emeka,Oluwaseun,Ikechukwu,Babajide,Musa,Kelechi,Segun,Obinna,Adewale"
        ),
    ),
    Culture(
        "indian",
        "IND",
        _w(
            "Sharma,Verma,Gupta,Singh,Kumar,Patel,Shah,Reddy,Nair,Iyer,Rao,Joshi,Mehta,Chopra,Malhotra,Kapoor,Bhatia,Agarwal,Banerjee,Chatterjee,Mukherjee,Das,Sen,Pillai,Menon,Desai,Kulkarni,Jain,Thakur,Yadav"
        ),
        _w("Priya,Anjali,Sunita,Kavita,Pooja,Neha,Lakshmi,Deepa,Meera,Aishwarya,Divya,Shreya"),
        _w("Rahul,Amit,Sanjay,Vijay,Rajesh,Suresh,Arjun,Vikram,Anil,Deepak,Manoj,Ravi,Karthik"),
    ),
    Culture(
        "dutch",
        "NLD",
        _w(
            "de Vries,van den Berg,Jansen,Bakker,de Jong,van Dijk,Visser,Smit,Meijer,de Boer,Mulder,de Groot,Bos,Vos,Peters,Hendriks,van Leeuwen,Dekker,Brouwer,de Wit,Dijkstra,Smits,de Graaf,van der Meer,van der Linden,Kok,Jacobs,de Haan,Vermeulen,van den Heuvel"
        ),
        _w("Sanne,Fenna,Anouk,Lotte,Femke,Eva,Sophie,Lieke,Marieke,Ilse"),
        _w("Daan,Sem,Joris,Bram,Thijs,Ruben,Lars,Stijn,Jeroen,Pieter,Maarten,Wouter"),
    ),
)

# -- Cyrillic schemes ----------------------------------------------------------------------------

_ICAO = dict(
    zip(
        "АБВГҐДЕЁЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ",
        [
            "A",
            "B",
            "V",
            "G",
            "G",
            "D",
            "E",
            "E",
            "IE",
            "ZH",
            "Z",
            "I",
            "I",
            "I",
            "I",
            "K",
            "L",
            "M",
            "N",
            "O",
            "P",
            "R",
            "S",
            "T",
            "U",
            "F",
            "KH",
            "TS",
            "CH",
            "SH",
            "SHCH",
            "IE",
            "Y",
            "",
            "E",
            "IU",
            "IA",
        ],
        strict=True,
    )
)
_BGN = {
    **_ICAO,
    "Е": "E",
    "Ё": "YO",
    "Є": "YE",
    "Й": "Y",
    "Ї": "YI",
    "Ю": "YU",
    "Я": "YA",
    "Ъ": "",
    "Ы": "Y",
}
_GERMAN = {
    **_ICAO,
    "В": "W",
    "Ж": "SCH",
    "З": "S",
    "Й": "J",
    "Х": "CH",
    "Ц": "Z",
    "Ч": "TSCH",
    "Ш": "SCH",
    "Щ": "SCHTSCH",
    "Ю": "JU",
    "Я": "JA",
    "Ё": "JO",
    "Є": "JE",
    "Ї": "JI",
    "Ы": "Y",
    "Ъ": "",
    "С": "S",
}
_FRENCH = {
    **_ICAO,
    "Ж": "J",
    "У": "OU",
    "Х": "KH",
    "Ч": "TCH",
    "Ш": "CH",
    "Щ": "CHTCH",
    "Й": "I",
    "Ю": "IOU",
    "Я": "IA",
    "Ё": "IO",
    "Ъ": "",
    "Ы": "Y",
    "Є": "IE",
}
CYRILLIC_SCHEMES = {"icao": _ICAO, "bgn": _BGN, "german": _GERMAN, "french": _FRENCH}


def romanise_cyrillic(text: str, scheme: str) -> str:
    """``text`` in Cyrillic romanised by ``scheme`` (upper case)."""
    table = CYRILLIC_SCHEMES[scheme]
    out = []
    upper = text.upper()
    for index, char in enumerate(upper):
        if scheme == "bgn" and char == "Е" and (index == 0 or upper[index - 1] in "АЕЁИОУЫЭЮЯ"):
            out.append("YE")
        elif scheme == "bgn" and char == "И" and index + 1 < len(upper) and upper[index + 1] == "Й":
            out.append("I")
        else:
            out.append(table.get(char, char))
    return "".join(out)


# -- Arabic schemes (names given as sounds) -------------------------------------------------------
# Sounds: a i u (short), aa ii uu (long), H (pharyngeal h), x (kh), q, j, sh, th, dh, gh, T (emphatic
# t), S, D, Z, 3 (ayn), ' (hamza), w, y; doubled consonants written twice. Names are written in an
# English scholarly form in CULTURES and parsed into sounds by _sounds.

_SCHOLARLY = {
    "a": "A",
    "i": "I",
    "u": "U",
    "aa": "A",
    "ii": "I",
    "uu": "U",
    "x": "KH",
    "sh": "SH",
    "th": "TH",
    "dh": "DH",
    "gh": "GH",
    "q": "Q",
    "j": "J",
    "3": "",
    "'": "",
    "h": "H",
    "w": "W",
    "y": "Y",
}
_POPULAR = {**_SCHOLARLY, "u": "O", "i": "E", "ii": "EE", "uu": "OO", "q": "Q", "aa": "A"}
_FRENCH_AR = {
    **_SCHOLARLY,
    "u": "OU",
    "uu": "OU",
    "j": "DJ",
    "sh": "CH",
    "q": "K",
    "w": "OU",
    "ii": "I",
    "i": "I",
    "x": "KH",
}
_EGYPTIAN = {
    **_SCHOLARLY,
    "j": "G",
    "q": "",
    "th": "T",
    "dh": "Z",
    "u": "O",
    "i": "E",
    "ii": "I",
    "uu": "OU",
}
ARABIC_SCHEMES = {
    "scholarly": _SCHOLARLY,
    "popular": _POPULAR,
    "french": _FRENCH_AR,
    "egyptian": _EGYPTIAN,
}
_ARTICLE = {"scholarly": "AL", "popular": "AL", "french": "EL", "egyptian": "EL"}


def _sounds(word: str) -> list[str]:
    """A scholarly-romanised word as sounds (long vowels are written as in "Yusuf": u)."""
    word = word.lower()
    out: list[str] = []
    index = 0
    while index < len(word):
        pair = word[index : index + 2]
        if pair in ("kh", "sh", "th", "dh", "gh"):
            out.append("x" if pair == "kh" else pair)
            index += 2
            continue
        out.append(word[index])
        index += 1
    return out


def romanise_arabic(name: str, scheme: str, rng: random.Random) -> str:
    """A scholarly-written Arabic name re-romanised by ``scheme`` (article and doubling vary)."""
    table = ARABIC_SCHEMES[scheme]
    words = []
    for word in name.replace("-", " ").split():
        if word.lower() == "al":
            words.append(_ARTICLE[scheme] + rng.choice(["-", " ", ""]))
            continue
        sounds = _sounds(word)
        text = []
        for position, sound in enumerate(sounds):
            long_vowel = (
                sound in "aiu" and position + 1 < len(sounds) and sounds[position + 1] == sound
            )
            if long_vowel:
                continue
            key = (
                sound * 2
                if position and sounds[position - 1] == sound and sound in "aiu"
                else sound
            )
            text.append(table.get(key, sound.upper()))
        romanised = "".join(text)
        if scheme in ("french", "egyptian") and rng.random() < 0.5:
            romanised = _single(romanised)
        words.append(romanised)
    joined = " ".join(words).replace("- ", "-").replace("  ", " ")
    return joined.replace("AL-", "AL-").strip()


def _single(text: str) -> str:
    out: list[str] = []
    for char in text:
        if out and out[-1] == char and char not in "AEIOU":
            continue
        out.append(char)
    return "".join(out)
