"""Thirty distinct, invented Russia–China developments for the crash soak (our own text).

Each must alert once; its re-reports (same wording from other outlets) must join its story
and stay silent. They are written to differ from one another in actor, act, goods, place
and people, so the story a re-report joins does not depend on the order of arrival.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.models import Article

DEVELOPMENTS: list[tuple[str, str]] = [
    (
        "Russia asks China for Orlan drone engines",
        "Russian defence officials asked Chinese manufacturers in Shenzhen to supply engines for Orlan reconnaissance drones, investigators in Tallinn said.",
    ),
    (
        "Chinese firm ships gunpowder to Russian arsenal in Tula",
        "A chemical company in Shandong shipped nitrocellulose to a Russian arsenal near Tula, customs records reviewed by analysts in Helsinki show.",
    ),
    (
        "Washington sanctions Hong Kong traders over microchips for Moscow",
        "The United States imposed sanctions on four Hong Kong trading houses that routed microchips from China to Russian missile makers, the Treasury said.",
    ),
    (
        "Kremlin requests Chinese armoured vehicle parts",
        "The Kremlin requested gearboxes and tracks for armoured vehicles from Chinese suppliers in Harbin, a leaked memo shows.",
    ),
    (
        "Beijing promises Moscow helicopter components",
        "China promised to deliver helicopter rotor components to Russia before winter, a Russian deputy minister told lawmakers in Vladivostok.",
    ),
    (
        "EU blacklists Chinese drone distributors supplying Russia",
        "The European Union added two Chinese drone distributors in Guangzhou to its sanctions list for supplying Russia's army with quadcopters.",
    ),
    (
        "Russia seeks Chinese thermal imaging sights",
        "Russian procurement agents sought thermal imaging rifle sights from factories in Wuhan, according to intercepted invoices.",
    ),
    (
        "China delivers satellite imagery equipment to Russian military",
        "Chinese companies delivered satellite ground-station equipment to the Russian military in Novosibirsk, officials in Warsaw said.",
    ),
    (
        "US threatens sanctions on Chinese banks financing Russian arms purchases",
        "Treasury officials warned that Chinese banks in Shanghai would face sanctions if they financed Russian purchases of artillery fuses.",
    ),
    (
        "Moscow asks Beijing for naval radar systems",
        "Moscow asked Beijing for shipborne radar systems for its Baltic fleet, diplomats in Copenhagen said.",
    ),
    (
        "Chinese exporters sell ball bearings to Russian tank plant",
        "Exporters in Zhejiang sold precision ball bearings to the Uralvagonzavod tank plant in Russia, trade data compiled in Berlin shows.",
    ),
    (
        "Britain sanctions Chinese electronics suppliers of Russian cruise missiles",
        "Britain imposed sanctions on three electronics suppliers in Dongguan accused of providing navigation modules for Russian cruise missiles.",
    ),
    (
        "Russia requests Chinese diesel engines for military trucks",
        "Russia requested diesel engines for Kamaz military trucks from Chinese makers in Weifang, a procurement notice says.",
    ),
    (
        "China supplies Russia with body armour plates",
        "Chinese workshops in Hebei supplied ceramic body armour plates to Russian volunteer battalions, a report by researchers in Vilnius found.",
    ),
    (
        "Japan sanctions Chinese firms that helped Russia obtain machine tools",
        "Japan imposed sanctions on Chinese companies in Dalian that helped Russia obtain computer-controlled machine tools for weapons factories.",
    ),
    (
        "Kremlin seeks Chinese anti-drone jammers",
        "Kremlin officials sought portable anti-drone jammers from Chinese electronics firms in Chengdu, sources in Kyiv said.",
    ),
    (
        "Chinese company transfers sonar technology to Russian submarine yard",
        "A Chinese company in Qingdao transferred sonar technology to a Russian submarine shipyard in Severodvinsk, Norwegian intelligence said.",
    ),
    (
        "US sanctions Chinese suppliers of Russian drone batteries",
        "The United States sanctioned five Chinese suppliers in Ningbo that provided lithium batteries for Russian attack drones.",
    ),
    (
        "Moscow asks Beijing for artillery barrel steel",
        "Moscow asked Beijing to supply specialised steel for artillery barrels, according to trade officials in Astana.",
    ),
    (
        "Chinese traders deliver fibre-optic drones to Russian units",
        "Traders in Fujian delivered fibre-optic guided drones to Russian infantry units, a monitoring group in Riga reported.",
    ),
    (
        "Canada sanctions Chinese logistics firms carrying Russian military cargo",
        "Canada imposed sanctions on Chinese logistics firms in Tianjin that carried military cargo for Russia's defence ministry.",
    ),
    (
        "Russia requests Chinese night vision goggles",
        "Russia requested tens of thousands of night vision goggles from Chinese optics makers in Nanjing, a defence ministry letter shows.",
    ),
    (
        "China provides Russia with rocket fuel chemicals",
        "Chinese chemical plants in Jiangsu provided rocket fuel precursors to Russian missile manufacturers, inspectors in Geneva said.",
    ),
    (
        "Australia sanctions Chinese component makers for Russian glide bombs",
        "Australia imposed sanctions on Chinese component makers in Xiamen that supplied guidance kits for Russian glide bombs.",
    ),
    (
        "Russian officials seek Chinese combat engineering vehicles",
        "Russian officials sought mine-clearing engineering vehicles from Chinese manufacturers in Baotou, diplomats in Ankara said.",
    ),
    (
        "Chinese firm sells Russia radio encryption modules",
        "A firm in Hangzhou sold radio encryption modules to the Russian army's signals units, auditors in Prague found.",
    ),
    (
        "US sanctions Chinese shipping company over North Korean shells for Russia",
        "The United States sanctioned a Chinese shipping company in Dandong for ferrying artillery shells to Russia, the State Department said.",
    ),
    (
        "Moscow seeks Chinese aircraft tyres for bombers",
        "Moscow sought aircraft tyres for Tu-95 bombers from Chinese rubber plants in Qingdao, a customs broker in Almaty said.",
    ),
    (
        "Chinese suppliers ship servo motors to Russian missile plant",
        "Chinese suppliers in Suzhou shipped servo motors to a Russian missile plant in Votkinsk, an investigation by reporters in Oslo found.",
    ),
    (
        "Switzerland sanctions Chinese firms helping Russia evade export controls",
        "Switzerland imposed sanctions on Chinese firms in Shenzhen that helped Russia evade export controls on dual-use semiconductors.",
    ),
]

OUTLETS = ("Wire A", "Wire B", "Wire C")


def development_articles(start: datetime | None = None, reports: int = 3) -> list[tuple[int, Article]]:
    """(development index, article) for each development and its re-reports.

    All are dated within two days (inside one story window, so no story expires mid-run);
    re-reports carry the same wire headline and text from other outlets.
    """
    start = start or datetime(2031, 3, 2, 8, 0, tzinfo=UTC)
    out = []
    for index, (title, body) in enumerate(DEVELOPMENTS):
        published = start + timedelta(minutes=90 * index)
        for report in range(reports):
            outlet = OUTLETS[report % len(OUTLETS)]
            out.append(
                (
                    index,
                    Article(
                        id=f"dev{index:02d}-r{report}",
                        title=title,
                        text=body,
                        source=outlet,
                        url=f"https://{outlet.lower().replace(' ', '')}.example.org/dev{index:02d}",
                        published=published + timedelta(minutes=7 * report),
                    ),
                )
            )
    return out
