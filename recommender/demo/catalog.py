"""Deterministic demo catalogue, users and interactions for the demo tenant.

Everything is built from a small text grammar: each department and sub-category supplies
pools of options (brands, product types, features, ...) and templates pick from them, so a
few hundred hand-written phrases yield thousands of distinct, plausible products.
"""

from __future__ import annotations

import datetime
import itertools
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Pools = dict[str, tuple[str, ...]]

DEFAULT_NOW = datetime.datetime(2026, 11, 28, 12, 0, 0, tzinfo=datetime.UTC)
HISTORY_DAYS = 90
FAVOURITE_SHARE = 0.85
EVENT_TYPES = ("view", "click", "cart", "purchase", "like", "rating")


def _opts(text: str) -> tuple[str, ...]:
    """Split options separated by ``|`` or newlines."""
    parts = (part.strip() for part in text.replace("\n", "|").split("|"))
    return tuple(part for part in parts if part)


@dataclass(frozen=True)
class _Sub:
    """A sub-category: price band plus the pools that override its department's."""

    slug: str
    price: tuple[float, float]
    pools: Pools
    attrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Department:
    """A top-level department of the demo shop."""

    slug: str
    kind: str
    interests: tuple[str, ...]
    related: tuple[str, ...]
    share: float
    appeal: float
    pools: Pools
    subs: tuple[_Sub, ...]


_KIND_POOLS: dict[str, Pools] = {
    "goods": {
        "title": ("{brand} {model} {ptype}",),
        "model": ("{line}", "{line} {gen}"),
        "ref": ("the {brand} {model}",),
        "description": (
            "{desc_open} {desc_mid}",
            "{desc_open} {desc_mid} {desc_close}",
            "{desc_open} {desc_mid} {desc_close}",
        ),
        "desc_open": (
            "{ref_cap} is made from {material} and features {feature}.",
            "Built for {use}, {ref} combines {feature} with {feature2}.",
            "{ref_cap} brings {feature} and {feature2} to {use}.",
            "Made from {material}, {ref} is {adj} enough for {use}.",
            "Meet {ref}: {feature}, {feature2} and {material}, in one {adj} package.",
            "Designed with {use} in mind, {ref} pairs {material} with {feature}.",
        ),
        "desc_mid": (
            "It also offers {feature3}, so it is ready for {use2}.",
            "Reviewers single out {feature3} and how well it handles {use2}.",
            "{feature3_cap} makes it a dependable pick for {use2}.",
            "Thanks to {feature3}, it works just as well for {use2}.",
            "Add {feature3} and you have a {adj2} companion for {use2}.",
        ),
        "desc_close": (
            "Available in {color}.",
            "Finished in {color} and backed by a {warranty}-year warranty.",
            "Backed by a {warranty}-year warranty.",
            "A great gift for anyone into {interest}.",
            "Ships plastic-free in recyclable packaging.",
        ),
        "warranty": _opts("1 | 2 | 2 | 3 | 5"),
    },
    "consumable": {
        "description": (
            "{desc_open} {desc_mid}",
            "{desc_open} {desc_mid} {desc_close}",
            "{desc_open} {desc_mid} {desc_close}",
        ),
        "desc_open": (
            "{ref_cap} is made from {material} and offers {feature}.",
            "Made from {material}, {ref} delivers {feature} and {feature2}.",
            "{ref_cap} brings {feature} to {use}.",
        ),
        "desc_mid": (
            "Expect {feature3}, which makes it ideal for {use2}.",
            "Customers reach for it for {use2}, thanks to {feature3}.",
            "It also offers {feature3}.",
        ),
        "desc_close": ("{closer}", "{closer}", "A great gift for anyone into {interest}."),
    },
    "book": {
        "title": ("{btitle} by {author}",),
        "author": ("{first} {last}",),
        "description": ("{desc_open} {desc_mid}", "{desc_open} {desc_mid} {desc_close}"),
        "desc_close": (
            "A {pages}-page {format_lower} from {brand}.",
            "Perfect for {use}.",
            "Published by {brand}.",
        ),
        "format": _opts("Paperback | Paperback | Hardcover"),
        "pages": tuple(str(n) for n in range(176, 560, 8)),
    },
}

# Attributes every item of a kind exports, when its pools define the slot.
_KIND_ATTRS: dict[str, tuple[str, ...]] = {
    "goods": ("color", "material"),
    "consumable": (),
    "book": ("author", "format", "pages"),
}

_DEPARTMENTS: tuple[_Department, ...] = (
    _Department(
        slug="shoes",
        kind="goods",
        interests=("running", "marathons"),
        related=("wearables", "hiking"),
        share=1.2,
        appeal=1.3,
        pools={
            "brand": _opts("Acme | Stridewell | Fleetfoot | Pacelab | Altura | Kinetix | Runhaven"),
            "line": _opts("""
                Trail Runner | Cloudstride | Tempo | Pacer | Ridge | Velocity | Glide | Apex
                Marathon | Swift | Horizon | Cadence | Fastline | Skyline | Daybreak
            """),
            "gen": _opts("2 | 3 | 4 | 5 | Pro | Lite | GTX | Max | Elite"),
            "adj": _opts("lightweight | responsive | supportive | nimble | stable | durable"),
            "color": _opts("""
                blue | black | white | grey | red | orange | green | navy | volt yellow | coral
            """),
            "use": _opts("""
                daily training runs | tempo sessions | long weekend runs | race day
                easy recovery miles | parkrun mornings
            """),
        },
        subs=(
            _Sub(
                "running",
                (70, 190),
                {
                    "ptype": _opts("""
                        Running Shoes | Road Running Shoes | Cushioned Running Shoes
                        Stability Running Shoes | Racing Shoes
                    """),
                    "feature": _opts("""
                        a responsive nitrogen-infused foam midsole
                        a breathable engineered-mesh upper
                        a carbon-fibre propulsion plate
                        a plush, padded heel counter
                        an 8 mm heel-to-toe drop
                        a durable blown-rubber outsole
                        reflective heel details for early-morning runs
                        a gusseted tongue that keeps debris out
                        a wide, stable forefoot platform
                    """),
                    "material": _opts("""
                        recycled engineered mesh | lightweight knit
                        supercritical EVA foam | a recycled polyester knit
                    """),
                },
            ),
            _Sub(
                "trail",
                (90, 200),
                {
                    "ptype": _opts(
                        "Trail Running Shoes | Waterproof Trail Shoes | Mountain Running Shoes"
                    ),
                    "feature": _opts("""
                        a grippy outsole with 5 mm multidirectional lugs
                        a rock plate that shields against sharp stones
                        a waterproof, breathable membrane
                        a protective rubber toe cap
                        a quick-lace system with a stash pocket
                        gaiter attachment points
                        a drainage-friendly mesh upper
                    """),
                    "material": _opts("""
                        abrasion-resistant ripstop mesh | sticky high-traction rubber
                        a waterproof membrane and recycled mesh
                    """),
                    "use": _opts("""
                        technical mountain trails | muddy forest loops | ultra-distance races
                        fast hikes | skyrunning races
                    """),
                },
            ),
            _Sub(
                "walking",
                (50, 140),
                {
                    "ptype": _opts("Walking Shoes | Everyday Sneakers | Slip-On Walking Shoes"),
                    "feature": _opts("""
                        a memory-foam sockliner
                        a padded collar
                        a flexible rocker sole
                        a roomy toe box
                        machine-washable uppers
                        an arch-supporting footbed
                    """),
                    "material": _opts(
                        "soft knit | full-grain leather | recycled canvas | a merino wool blend"
                    ),
                    "use": _opts("""
                        all-day city walking | commuting | travel days | errands around town
                        long days on your feet
                    """),
                },
            ),
            _Sub(
                "training",
                (60, 160),
                {
                    "ptype": _opts(
                        "Cross-Training Shoes | Gym Shoes | HIIT Trainers | Lifting Shoes"
                    ),
                    "feature": _opts("""
                        a flat, stable heel for heavy lifts
                        lateral support straps
                        a rope-climb-ready midfoot wrap
                        a grippy gum-rubber outsole
                        a low-profile cushioned midsole
                        a reinforced toe bumper
                    """),
                    "material": _opts(
                        "durable ripstop mesh | TPU-reinforced knit | synthetic suede"
                    ),
                    "use": _opts("""
                        HIIT classes | strength training | circuit workouts | CrossFit-style WODs
                        agility drills
                    """),
                },
            ),
        ),
    ),
    _Department(
        slug="hiking",
        kind="goods",
        interests=("hiking", "outdoors"),
        related=("camping", "shoes"),
        share=1.0,
        appeal=1.0,
        pools={
            "brand": _opts("""
                Northpeak | Trailcraft | Ridgeline | Alpenwise | Cairn & Co | Timberline Supply
                Summitry | Wildmark
            """),
            "line": _opts("""
                Ascent | Switchback | Alpine | Traverse | Ridgewalker | Basecamp | Talus
                Scree | Highline | Cascade | Boulder | Fernway
            """),
            "gen": _opts("II | III | Pro | Lite | UL | Hybrid"),
            "adj": _opts("rugged | packable | weatherproof | lightweight | durable | versatile"),
            "color": _opts(
                "forest green | slate grey | burnt orange | black | navy | sand | olive"
            ),
            "use": _opts("""
                day hikes | multi-day treks | alpine scrambles | rainy shoulder-season hikes
                hut-to-hut trips | long-distance trails
            """),
        },
        subs=(
            _Sub(
                "boots",
                (110, 270),
                {
                    "ptype": _opts("""
                        Hiking Boots | Waterproof Hiking Boots | Mid Hiking Boots
                        Backpacking Boots | Hiking Shoes
                    """),
                    "feature": _opts("""
                        a waterproof, breathable membrane
                        a lugged rubber outsole for loose terrain
                        a supportive mid-height ankle collar
                        a cushioned EVA midsole
                        a TPU shank for stability on rocky ground
                        speed-lace hooks
                        a padded, gusseted tongue
                    """),
                    "material": _opts("""
                        full-grain leather | nubuck leather and ballistic nylon
                        recycled synthetic suede
                    """),
                },
            ),
            _Sub(
                "backpacks",
                (50, 290),
                {
                    "ptype": _opts("Daypack | Hiking Backpack | Backpacking Pack | Hydration Pack"),
                    "model": ("{line} {gen}",),
                    "gen": _opts("18 | 22 | 28 | 35 | 45 | 55 | 65"),
                    "feature": _opts("""
                        a ventilated mesh back panel
                        an adjustable torso length
                        hip-belt pockets for snacks and a phone
                        a hydration sleeve with a hose port
                        an integrated rain cover
                        trekking-pole attachment loops
                        a padded harness with load lifters
                        a top lid with two zippered pockets
                    """),
                    "material": _opts("""
                        recycled 210D ripstop nylon | water-resistant coated nylon
                        abrasion-resistant 420D nylon
                    """),
                },
            ),
            _Sub(
                "apparel",
                (40, 260),
                {
                    "ptype": _opts("""
                        Rain Jacket | Softshell Jacket | Fleece Pullover | Hiking Trousers
                        Convertible Hiking Trousers | Insulated Vest | Merino Base Layer
                    """),
                    "feature": _opts("""
                        fully taped seams
                        pit zips for venting on steep climbs
                        an adjustable, helmet-compatible hood
                        four-way stretch
                        zippered hand pockets
                        a packable design that stuffs into its own pocket
                        a DWR finish that sheds light rain
                        UPF 50 sun protection
                    """),
                    "material": _opts("""
                        3-layer waterproof nylon | recycled polyester fleece
                        17.5-micron merino wool | stretch-woven nylon
                    """),
                },
            ),
            _Sub(
                "trekking-poles",
                (40, 180),
                {
                    "ptype": _opts(
                        "Trekking Poles | Carbon Trekking Poles | Folding Trekking Poles"
                    ),
                    "feature": _opts("""
                        flick-lock length adjustment
                        cork grips that wick away sweat
                        interchangeable rubber and carbide tips
                        a three-section folding design
                        padded, adjustable wrist straps
                        snow baskets for winter use
                    """),
                    "material": _opts(
                        "aircraft-grade 7075 aluminium | carbon fibre | lightweight aluminium alloy"
                    ),
                },
            ),
        ),
    ),
    _Department(
        slug="wearables",
        kind="goods",
        interests=("fitness tracking", "wearables"),
        related=("shoes", "cycling", "audio"),
        share=0.8,
        appeal=1.0,
        pools={
            "brand": _opts("""
                Pulsewise | Tempo Labs | Vitalis | Orbitrack | Corewear | Helio | Stridesense
                Zenith Instruments
            """),
            "line": _opts("""
                Pulse | Vital | Orbit | Active | Core | Sense | Trek | Nova | Quantum | Aero
                Venture | Halo
            """),
            "gen": _opts("2 | 3 | 4 | S | Pro | Plus | Sport | Solar | LTE"),
            "adj": _opts("sleek | accurate | water-resistant | lightweight | comfortable"),
            "color": _opts(
                "midnight black | graphite | silver | rose gold | sage green | ocean blue"
            ),
            "use": _opts("""
                marathon training | tracking daily steps and sleep | open-water swims
                interval sessions | everyday wear | triathlon training
            """),
        },
        subs=(
            _Sub(
                "smartwatches",
                (129, 599),
                {
                    "ptype": _opts(
                        "Smartwatch | GPS Smartwatch | Multisport GPS Watch | Hybrid Smartwatch"
                    ),
                    "feature": _opts("""
                        a bright always-on AMOLED display
                        dual-frequency GPS
                        up to 14 days of battery life
                        wrist-based heart-rate and blood-oxygen monitoring
                        contactless payments
                        offline maps with turn-by-turn navigation
                        5 ATM water resistance
                        onboard music storage for phone-free runs
                        automatic sleep and recovery tracking
                    """),
                    "material": _opts("""
                        a titanium bezel and sapphire glass
                        a lightweight fibre-reinforced polymer case
                        a stainless steel case with a silicone band
                    """),
                },
            ),
            _Sub(
                "fitness-trackers",
                (49, 299),
                {
                    "ptype": _opts("Fitness Tracker | Activity Band | Sleep Tracker Ring"),
                    "feature": _opts("""
                        24/7 heart-rate monitoring
                        a week-long battery
                        automatic workout detection
                        guided breathing sessions
                        smart notifications
                        stress and skin-temperature tracking
                        detailed sleep-stage analysis
                    """),
                    "material": _opts("""
                        a soft silicone band | hypoallergenic titanium
                        a recycled aluminium housing
                    """),
                },
            ),
            _Sub(
                "heart-rate-monitors",
                (39, 139),
                {
                    "ptype": _opts("Heart Rate Monitor Chest Strap | Optical Heart Rate Armband"),
                    "feature": _opts("""
                        ECG-accurate heart-rate readings
                        dual Bluetooth and ANT+ connectivity
                        onboard memory for watch-free sessions
                        a comfortable, machine-washable strap
                        running dynamics such as cadence and ground contact time
                        a battery that lasts a full training season
                    """),
                    "material": _opts("a soft textile strap | sweat-resistant elastic fabric"),
                },
            ),
        ),
    ),
    _Department(
        slug="audio",
        kind="goods",
        interests=("music", "podcasts"),
        related=("wearables", "home-office"),
        share=1.0,
        appeal=1.2,
        pools={
            "brand": _opts("""
                Sonara | Auralis | Bassline | Echoform | Hushwave | Resonant | Lumen Audio
                Vibe Theory
            """),
            "line": _opts("""
                Studio | Aura | Echo | Quiet | Flow | Arc | Wave | Drift | Tone | Solo | Sonic
                Air | Loop | Verse
            """),
            "gen": _opts("2 | 3 | II | Pro | Max | SE | Mini | ANC"),
            "adj": _opts("immersive | comfortable | portable | punchy | refined | versatile"),
            "color": _opts("""
                matte black | cloud white | sandstone | midnight blue | forest green | silver
            """),
            "use": _opts("""
                long-haul flights | daily commutes | focused work sessions | gym workouts
                late-night listening | video calls
            """),
        },
        subs=(
            _Sub(
                "headphones",
                (59, 429),
                {
                    "ptype": _opts("""
                        Wireless Noise-Cancelling Headphones | Over-Ear Headphones
                        On-Ear Headphones | Studio Monitor Headphones
                    """),
                    "feature": _opts("""
                        adaptive active noise cancellation
                        up to 40 hours of battery life
                        40 mm custom dynamic drivers
                        plush memory-foam ear cushions
                        multipoint Bluetooth 5.3 pairing
                        a transparency mode for hearing announcements
                        a fold-flat design with a hard-shell case
                        USB-C fast charging
                    """),
                    "material": _opts("""
                        protein-leather ear cushions | a lightweight aluminium headband
                        recycled plastics
                    """),
                },
            ),
            _Sub(
                "earbuds",
                (29, 279),
                {
                    "ptype": _opts("""
                        True Wireless Earbuds | Noise-Cancelling Earbuds | Sport Earbuds
                        Open-Ear Earbuds
                    """),
                    "feature": _opts("""
                        IPX5 sweat resistance
                        secure-fit ear wings
                        a pocketable wireless charging case
                        eight hours of playback per charge
                        beamforming microphones for clear calls
                        intuitive touch controls
                        spatial audio with head tracking
                    """),
                    "material": _opts("""
                        soft silicone ear tips | memory-foam ear tips
                        a matte polycarbonate shell
                    """),
                },
            ),
            _Sub(
                "speakers",
                (39, 549),
                {
                    "ptype": _opts("""
                        Portable Bluetooth Speaker | Smart Speaker | Bookshelf Speakers
                        Waterproof Speaker | Soundbar
                    """),
                    "feature": _opts("""
                        room-filling 360-degree sound
                        an IP67 waterproof rating
                        a 20-hour battery
                        stereo pairing with a second speaker
                        built-in voice assistant support
                        Wi-Fi multiroom streaming
                        a built-in power bank for topping up your phone
                    """),
                    "material": _opts(
                        "a woven fabric grille | an aluminium body | a real-wood cabinet"
                    ),
                    "use": _opts("""
                        garden parties | movie nights | beach days | kitchen listening
                        weekend barbecues
                    """),
                },
            ),
        ),
    ),
    _Department(
        slug="kitchen",
        kind="goods",
        interests=("cooking", "baking"),
        related=("coffee-tea", "books"),
        share=1.3,
        appeal=1.2,
        pools={
            "brand": _opts("""
                Hearth & Hammer | Copperleaf | Ironwood Kitchen | Maison Brisk | Saltworks
                Panline | Culina | Forge & Fable
            """),
            "model": ("{line}",),
            "line": _opts("""
                Classic | Pro | Heritage | Everyday | Chef's | Artisan | Signature | Essentials
                Prime | Bistro | Provence | Nordic
            """),
            "adj": _opts("versatile | sturdy | dependable | reliable | durable"),
            "color": _opts("graphite | cream | sage | cherry red | stainless | navy | matte black"),
            "use": _opts("""
                weeknight dinners | Sunday roasts | batch cooking | searing steaks
                holiday baking | everyday meal prep
            """),
        },
        subs=(
            _Sub(
                "cookware",
                (25, 349),
                {
                    "ptype": _opts("""
                        10-Inch Cast Iron Skillet | 12-Inch Cast Iron Skillet
                        Non-Stick Frying Pan | 5.5-Quart Dutch Oven | 7-Quart Dutch Oven
                        3-Quart Saucepan | Stainless Steel Sauté Pan | 8-Quart Stockpot
                        Carbon Steel Wok | 10-Piece Cookware Set
                    """),
                    "feature": _opts("""
                        even heat distribution across the base
                        a PFAS-free ceramic non-stick coating
                        riveted stay-cool handles
                        compatibility with every hob, including induction
                        oven safety up to 260°C
                        a tight-fitting, self-basting lid
                        pour spouts on both sides
                        a pre-seasoned cooking surface
                    """),
                    "material": _opts("""
                        tri-ply stainless steel | enamelled cast iron | hard-anodised aluminium
                        carbon steel | pre-seasoned cast iron
                    """),
                },
            ),
            _Sub(
                "knives",
                (19, 299),
                {
                    "ptype": _opts("""
                        8-Inch Chef's Knife | Santoku Knife | Paring Knife | Bread Knife
                        7-Piece Knife Block Set | Nakiri Knife
                    """),
                    "feature": _opts("""
                        a razor-sharp 15-degree edge
                        a full-tang, triple-riveted handle
                        a hand-honed blade
                        a comfortable ergonomic grip
                        a bolster that protects your fingers
                        a Granton edge that stops food sticking
                    """),
                    "material": _opts("""
                        high-carbon German stainless steel | 67-layer Damascus steel
                        Japanese VG-10 steel | pakkawood and stainless steel
                    """),
                },
            ),
            _Sub(
                "bakeware",
                (9, 79),
                {
                    "ptype": _opts("""
                        Sheet Pan | Loaf Tin | Springform Cake Pan | 12-Cup Muffin Tray
                        Pie Dish | 5-Piece Baking Set
                    """),
                    "feature": _opts("""
                        a non-stick coating that releases cleanly
                        rolled edges that resist warping
                        even browning from edge to centre
                        dishwasher-safe construction
                        a textured surface that promotes airflow
                    """),
                    "material": _opts("""
                        heavy-gauge aluminised steel | stoneware | borosilicate glass
                        silicone-coated carbon steel
                    """),
                    "use": _opts("""
                        holiday baking | weekend bakes | birthday cakes | batch baking
                        traybake dinners
                    """),
                },
            ),
            _Sub(
                "appliances",
                (35, 499),
                {
                    "ptype": _opts("""
                        Stand Mixer | Immersion Blender | High-Speed Blender | Air Fryer
                        Electric Kettle | Food Processor | Multicooker
                    """),
                    "feature": _opts("""
                        multiple speed settings with a pulse function
                        a powerful 1,200 W motor
                        dishwasher-safe removable parts
                        a digital touch panel with presets
                        a compact footprint that fits under wall cabinets
                        automatic shut-off for safety
                    """),
                    "material": _opts("""
                        brushed stainless steel | BPA-free Tritan plastic
                        a die-cast metal housing
                    """),
                },
            ),
            _Sub(
                "utensils",
                (8, 65),
                {
                    "ptype": _opts("""
                        Silicone Spatula Set | Wooden Spoon Set | 6-Piece Utensil Set
                        Kitchen Tongs | Mixing Bowl Set
                    """),
                    "feature": _opts("""
                        heat resistance up to 230°C
                        a one-piece design with no crevices to trap food
                        hanging loops for easy storage
                        scratch-free edges that are safe on non-stick pans
                        a comfortable, balanced grip
                    """),
                    "material": _opts("""
                        food-grade silicone | FSC-certified olive wood | brushed stainless steel
                        bamboo
                    """),
                },
            ),
        ),
    ),
    _Department(
        slug="coffee-tea",
        kind="goods",
        interests=("coffee", "tea"),
        related=("kitchen", "books"),
        share=1.0,
        appeal=1.2,
        pools={
            "brand": _opts("Steamline | Brewhaus | Kettlewood | Ember & Oak | Morning Ritual"),
            "line": _opts("""
                Bloom | Origin | Daybreak | Ritual | Slow | Crema | Steep | Barista | Aroma
                Clarity
            """),
            "gen": _opts("2 | Pro | Mini | XL | Plus"),
            "adj": _opts("elegant | reliable | precise | sturdy | compact"),
            "color": _opts("matte black | white | copper | stainless | sage | charcoal"),
            "use": _opts("""
                morning pour-overs | a slow Sunday French press | espresso and flat whites
                cold brew | afternoon tea | the office kitchen
            """),
            "interest": ("coffee",),
        },
        subs=(
            _Sub(
                "coffee-beans",
                (8, 39),
                {
                    "title": ("{brand} {origin} {roast} {form}, {size}",),
                    "ref": ("this {origin} {roast_lower}",),
                    "brand": _opts(
                        "Northbean | Ember & Oak Roasters | Morning Ritual | Highgrown | Brewhaus"
                    ),
                    "origin": _opts("""
                        Ethiopia Yirgacheffe | Colombia Huila | Guatemala Antigua
                        Kenya Nyeri AA | Brazil Cerrado | Sumatra Mandheling | Costa Rica Tarrazú
                        Rwanda Nyamasheke | Peru Cajamarca | Honduras Santa Bárbara
                        House Espresso Blend | Breakfast Blend | Swiss Water Decaf
                    """),
                    "roast": _opts(
                        "Light Roast | Medium Roast | Dark Roast | Espresso Roast | Filter Roast"
                    ),
                    "form": _opts("Whole Bean Coffee | Whole Bean Coffee | Ground Coffee"),
                    "size": _opts("250 g | 500 g | 1 kg"),
                    "feature": _opts("""
                        tasting notes of blueberry, jasmine and honey
                        notes of dark chocolate and toasted hazelnut
                        a syrupy body with stone-fruit sweetness
                        bright citrus acidity
                        a smooth, low-acid finish
                        notes of brown sugar and red apple
                        a thick, crema-rich espresso shot
                    """),
                    "material": _opts("""
                        100% specialty-grade arabica beans
                        shade-grown, Fairtrade-certified beans
                        washed-process arabica from smallholder farms
                        naturally processed, single-origin beans
                    """),
                    "closer": _opts("""
                        Roasted to order and shipped within 48 hours.
                        Packed in a resealable bag with a one-way valve.
                        Every lot is cupped and scored before it is roasted.
                    """),
                },
                attrs=("origin", "roast", "size"),
            ),
            _Sub(
                "tea",
                (6, 29),
                {
                    "title": ("{brand} {blend} {tform}",),
                    "ref": ("this {blend}",),
                    "brand": _opts(
                        "Copper Kettle Tea Co. | Kettlewood | Leaf & Lantern | Morning Ritual"
                    ),
                    "blend": _opts("""
                        Earl Grey | English Breakfast | Jasmine Green | Sencha
                        Darjeeling First Flush | Assam | Chamomile | Peppermint | Rooibos Chai
                        Oolong | Lemon Ginger | Hibiscus Berry | White Peony | Lapsang Souchong
                        Genmaicha
                    """),
                    "tform": _opts("""
                        Loose Leaf Tea, 100 g | Loose Leaf Tea, 250 g | Tea Bags, 20 Count
                        Pyramid Tea Bags, 50 Count | Loose Leaf Tea Caddy, 125 g
                    """),
                    "feature": _opts("""
                        whole leaves that unfurl fully as they steep
                        plastic-free, compostable packaging
                        leaves sourced directly from family-run gardens
                        a smooth cup that takes milk well or shines on its own
                        a clean finish with no bitterness
                        a fragrant aroma the moment it hits the water
                    """),
                    "material": _opts("""
                        hand-picked whole leaves | organic, ethically sourced tea
                        single-estate tea leaves
                    """),
                    "use": _opts("""
                        afternoon tea | a calm morning ritual | winding down in the evening
                        iced tea on warm days | long afternoons at a desk
                    """),
                    "closer": _opts("""
                        Packed in a resealable, light-proof pouch.
                        Blended in small batches and dated for freshness.
                        Steep at 90°C for three minutes for the best cup.
                    """),
                    "interest": ("tea",),
                },
                attrs=("blend",),
            ),
            _Sub(
                "brewing",
                (15, 129),
                {
                    "ptype": _opts("""
                        Pour-Over Coffee Dripper | French Press | Moka Pot | Cold Brew Maker
                        Glass Teapot with Infuser | Gooseneck Kettle
                    """),
                    "feature": _opts("""
                        a thermally stable design that keeps the brew temperature steady
                        a reusable stainless steel mesh filter
                        a double-walled body that keeps drinks hot
                        dishwasher-safe parts
                        measurement markings for consistent ratios
                        a drip-free pour spout
                    """),
                    "material": _opts("""
                        borosilicate glass | ceramic | brushed stainless steel | cast aluminium
                    """),
                },
            ),
            _Sub(
                "grinders",
                (29, 299),
                {
                    "ptype": _opts(
                        "Conical Burr Grinder | Flat Burr Coffee Grinder | Hand Coffee Grinder"
                    ),
                    "feature": _opts("""
                        40 grind settings from espresso to French press
                        stainless steel conical burrs
                        a low-retention grind path
                        a precise stepless adjustment dial
                        a static-free catch cup
                        a consistent grind with very few fines
                    """),
                    "material": _opts("""
                        hardened stainless steel | die-cast aluminium | aluminium and walnut
                    """),
                },
            ),
            _Sub(
                "espresso",
                (199, 949),
                {
                    "ptype": _opts("""
                        Espresso Machine | Semi-Automatic Espresso Machine
                        Espresso Machine with Grinder | Dual Boiler Espresso Machine
                    """),
                    "feature": _opts("""
                        a 15-bar Italian pump
                        a steam wand for silky microfoam
                        PID temperature control
                        a 58 mm commercial-size portafilter
                        a 30-second heat-up time
                        a removable 2-litre water tank
                    """),
                    "material": _opts("brushed stainless steel | die-cast aluminium"),
                },
            ),
        ),
    ),
    _Department(
        slug="books",
        kind="book",
        interests=("reading", "popular science"),
        related=("kitchen", "hiking", "coffee-tea"),
        share=1.3,
        appeal=1.1,
        pools={
            "brand": _opts("""
                Harbor & Finch | Lanternfish Press | Greywell Books | Oakleaf Publishing
                Meridian House | Paper Crane Editions | Tidewater Books
            """),
            "first": _opts("""
                Maya | Elena | Tomás | Priya | Jonah | Ingrid | Samuel | Aiko | Nadia | Felix
                Rosa | Owen | Leila | Marcus | Hana | Daniel | Claire | Mateo | Zara | Ben
            """),
            "last": _opts("""
                Okafor | Marsh | Lindqvist | Rahman | Castell | Whitlow | Moreau | Tanaka
                Haddad | Brennan | Novak | Ferreira | Kowalski | Ashdown | Adeyemi | Sorensen
                Quill | Hartley | Varga | Pemberton
            """),
        },
        subs=(
            _Sub(
                "fiction",
                (8, 25),
                {
                    "btitle": (
                        "The {fadj} {fnoun}",
                        "The {fnoun} of {fplace}",
                        "{fplace_cap} in {fseason}",
                        "The {fperson}'s {fnoun}",
                        "What the {fnoun} Remembers",
                        "The Last {fperson} of {fplace}",
                    ),
                    "fadj": _opts("""
                        Quiet | Salt | Glass | Paper | Winter | Hidden | Lantern | Drowned | Silver
                        Burning | Lost | Borrowed | Distant | Hollow | Amber | Midnight
                    """),
                    "fnoun": _opts("""
                        Orchard | Harbour | Lighthouse | Garden | Map | Library | Tide | Archive
                        Bridge | Island | Letter | Vineyard | River | Observatory
                    """),
                    "fplace": _opts("""
                        Saltmarsh | Lisbon | the Northern Isles | Ravenmoor | Kingfisher Bay
                        the Valley | Alder Street | Marrow Hill | Vienna | the Delta
                    """),
                    "fseason": _opts("Winter | Spring | Late Summer | Autumn | August | November"),
                    "fperson": _opts("""
                        Cartographer | Beekeeper | Ferryman | Clockmaker | Botanist
                        Lighthouse Keeper | Translator | Glassblower
                    """),
                    "desc_open": (
                        "{btitle} follows {fprot}, who {fincident}.",
                        "In {author}'s {tone} novel, {fprot} {fincident}.",
                    ),
                    "desc_mid": (
                        "{praise}.",
                        "It is a story about {ftheme}, told with {fquality}.",
                    ),
                    "tone": _opts(
                        "luminous | gripping | bittersweet | atmospheric | long-awaited | sweeping"
                    ),
                    "fprot": _opts("""
                        a retired lighthouse keeper | a young cartographer | a widowed beekeeper
                        a detective on her final case | a botanist stranded on a remote island
                        a jazz pianist in 1950s Lisbon | a marine biologist
                        an ageing chess prodigy | a pair of estranged sisters
                        a translator with a secret | a night-shift nurse
                        a runaway apprentice clockmaker
                    """),
                    "fincident": _opts("""
                        inherits a crumbling vineyard and a decades-old secret
                        must decide what to save when the river floods
                        uncovers a letter that rewrites a family history
                        is drawn into a disappearance no one in town will discuss
                        sets out to walk the length of the country
                        receives a map to a place that should not exist
                        returns home after twenty years to settle an old debt
                        discovers that a neighbour is not who they claim to be
                    """),
                    "praise": _opts("""
                        Critics have called it a tender, page-turning triumph
                        Readers describe it as impossible to put down
                        The prose is spare, precise and often very funny
                        It has already been shortlisted for two literary prizes
                        Booksellers have been pressing it into customers' hands since launch
                    """),
                    "ftheme": _opts("""
                        family secrets and second chances | grief, memory and the places we leave
                        friendship across a lifetime | ambition and its costs
                        love in a time of upheaval
                    """),
                    "fquality": _opts("""
                        warmth and sharp humour | spare, precise prose | real suspense
                        great tenderness
                    """),
                    "use": _opts("""
                        book clubs | long train journeys | a rainy weekend | beach holidays
                        reading before bed
                    """),
                },
            ),
            _Sub(
                "cookbooks",
                (16, 42),
                {
                    "btitle": (
                        "{cuisine} {cbnoun}: {cbcount} Recipes for {cbocc}",
                        "The {cuisine} Cookbook: {cbcount} Recipes for {cbocc}",
                    ),
                    "cuisine": _opts("""
                        Mediterranean | Japanese | Mexican | Levantine | Vegetarian | Plant-Based
                        Nordic | Korean | Italian | Indian | One-Pot | Sheet-Pan | Tuscan
                        Sourdough | Small-Batch
                    """),
                    "cbnoun": _opts("Kitchen | Table | at Home | Made Simple | Everyday | Feasts"),
                    "cbcount": _opts("75 | 90 | 100 | 120 | 150"),
                    "cbocc": _opts("""
                        Weeknights | Every Season | Sharing | Busy Families | Slow Sundays
                        the Modern Cook | Small Kitchens
                    """),
                    "desc_open": (
                        "{author} brings together {cbcount} recipes, from {cbdish} to {cbdish2}.",
                        "In this cookbook, {author} shares {cbcount} recipes based on {cbidea}.",
                    ),
                    "cbdish": _opts("""
                        crispy chickpea salads | slow-braised short ribs | fifteen-minute noodles
                        flaky galettes | weekend loaves | charred vegetable platters | silky soups
                        one-tray roasts | make-ahead breakfasts | showstopping desserts
                    """),
                    "cbidea": _opts("""
                        seasonal produce and pantry staples
                        big flavour with minimal washing up
                        dishes that feed a crowd
                        food that works on a busy Tuesday
                        the food the author grew up with
                    """),
                    "desc_mid": (
                        "Each chapter includes {cbfeature}.",
                        "Home cooks will appreciate {cbfeature} throughout.",
                    ),
                    "cbfeature": _opts("""
                        step-by-step photography | make-ahead tips and freezer notes
                        notes on sourcing ingredients | menus for entertaining
                        substitutions for common allergies
                    """),
                    "use": _opts("""
                        weeknight dinners | holiday cooking | new cooks
                        gifting to a friend who loves to cook
                    """),
                    "format": _opts("Hardcover | Hardcover | Paperback"),
                    "interest": ("cooking",),
                },
            ),
            _Sub(
                "science",
                (10, 32),
                {
                    "btitle": (
                        "The Secret Life of {stopic}",
                        "{stopic_cap}: A Short History",
                        "Inside {stopic}",
                        "The Strange Science of {stopic}",
                        "What {stopic} Can Teach Us",
                        "The Hidden World of {stopic}",
                    ),
                    "stopic": _opts("""
                        Octopuses | Black Holes | the Gut Microbiome | Deep Time | Soil | Sleep
                        Migration | Memory | Clouds | Fungi | Volcanoes | Bees | the Deep Ocean
                        Dark Matter | Language | Trees
                    """),
                    "desc_open": (
                        "In {btitle}, {author} explores the latest research on {stopic_lower}.",
                        "{btitle} is a lively tour of {stopic_lower} and the people who study it.",
                    ),
                    "desc_mid": (
                        "Drawing on interviews with {sexperts}, the book {sangle}.",
                        "The result {sangle}.",
                    ),
                    "sexperts": _opts("""
                        field scientists on four continents | working researchers
                        historians and scientists alike | the people running the key experiments
                    """),
                    "sangle": _opts("""
                        makes complex ideas genuinely accessible
                        mixes vivid storytelling with clear explanation
                        challenges several popular myths
                        will change how you see the world around you
                    """),
                    "use": _opts("""
                        curious minds | long flights | fans of big-idea non-fiction
                        science-loving teenagers
                    """),
                    "interest": ("popular science",),
                },
            ),
            _Sub(
                "outdoor-guides",
                (12, 29),
                {
                    "btitle": (
                        "{region_cap} on Foot: {gcount} {gthing}",
                        "{gcount} {gthing} in {region}",
                        "{gthing} of {region}",
                    ),
                    "region": _opts("""
                        the Alps | Scotland | Patagonia | the Pacific Northwest | the Dolomites
                        Iceland | the Pyrenees | New Zealand | the Lake District | Norway
                        the Scottish Highlands | Colorado | the Balkans
                    """),
                    "gcount": _opts("30 | 40 | 50 | 60"),
                    "gthing": _opts("""
                        Classic Day Hikes | Great Walks | Trail Runs | Multi-Day Treks
                        Bikepacking Routes | Wild Camping Spots | Family Walks | Summit Scrambles
                    """),
                    "desc_open": (
                        "{btitle} details {gcount} {gthing_lower} with {gfeature}.",
                        "Written by {author}, {btitle} covers {gthing_lower} across {region}.",
                    ),
                    "desc_mid": ("Every entry comes with {gfeature2}.", "{gpraise}."),
                    "gfeature": _opts("""
                        detailed maps and elevation profiles | GPX downloads for every route
                        seasonal advice and safety notes
                        tips on reaching trailheads by public transport
                    """),
                    "gpraise": _opts("""
                        It is compact enough to slip into a pack pocket
                        The photography alone will have you planning your next trip
                        Local knowledge shines through on every page
                    """),
                    "use": _opts("""
                        planning a summer trip | weekend adventurers | first-time visitors
                        experienced hikers
                    """),
                    "interest": ("reading",),
                },
            ),
        ),
    ),
    _Department(
        slug="home-office",
        kind="goods",
        interests=("remote work", "productivity"),
        related=("audio", "books"),
        share=0.8,
        appeal=0.9,
        pools={
            "brand": _opts("""
                Deskwise | Ergonest | Workloft | Linea Studio | Fulcrum Office | Brightwork
                Oakhaus | Modula
            """),
            "line": _opts("""
                Flex | Ergo | Loft | Studio | Focus | Atlas | Frame | Linea | Nest | Axis
                Craft | Meridian
            """),
            "gen": _opts("2 | Pro | Plus | Compact | XL | Max"),
            "adj": _opts("ergonomic | sturdy | space-saving | minimalist | well-made"),
            "color": _opts("oak | walnut | white | black | light grey | birch"),
            "use": _opts("""
                long workdays at home | video calls | small apartment workspaces
                hybrid work setups | focused deep work
            """),
        },
        subs=(
            _Sub(
                "desks",
                (149, 849),
                {
                    "ptype": _opts("""
                        Standing Desk | Electric Sit-Stand Desk | Corner Standing Desk
                        Writing Desk | Standing Desk Converter
                    """),
                    "feature": _opts("""
                        dual motors with whisper-quiet height adjustment
                        four programmable height presets
                        an anti-collision sensor
                        integrated cable management trays
                        a scratch-resistant top
                        a height range from 62 to 127 cm
                        a steel frame rated for 120 kg
                    """),
                    "material": _opts("""
                        a solid oak top and powder-coated steel frame | bamboo
                        FSC-certified walnut veneer | recycled board with a laminate finish
                    """),
                },
            ),
            _Sub(
                "chairs",
                (129, 949),
                {
                    "ptype": _opts("""
                        Ergonomic Office Chair | Mesh Task Chair | Kneeling Chair
                        Executive Office Chair | Saddle Stool
                    """),
                    "feature": _opts("""
                        adjustable lumbar support
                        4D armrests
                        a synchronised tilt mechanism
                        a breathable mesh back
                        seat-depth adjustment
                        smooth-rolling, floor-safe castors
                    """),
                    "material": _opts("""
                        breathable elastomeric mesh | recycled aluminium and mesh
                        memory foam and upholstery fabric | vegan leather
                    """),
                },
            ),
            _Sub(
                "lighting",
                (29, 219),
                {
                    "ptype": _opts(
                        "LED Desk Lamp | Monitor Light Bar | Architect Desk Lamp | Smart Floor Lamp"
                    ),
                    "feature": _opts("""
                        stepless dimming
                        adjustable colour temperature from 2,700 K to 6,500 K
                        an auto-dimming ambient light sensor
                        a USB-C charging port in the base
                        flicker-free, high-CRI LEDs
                        a fully articulated arm
                    """),
                    "material": _opts(
                        "anodised aluminium | powder-coated steel | aluminium and walnut"
                    ),
                },
            ),
            _Sub(
                "monitor-mounts",
                (25, 199),
                {
                    "ptype": _opts("Monitor Arm | Dual Monitor Arm | Laptop Stand | Monitor Riser"),
                    "feature": _opts("""
                        gas-spring height adjustment
                        VESA 75 and 100 compatibility
                        both clamp and grommet mounting hardware
                        tool-free tilt and swivel
                        integrated cable routing
                        a weight capacity of up to 9 kg per screen
                    """),
                    "material": _opts("""
                        die-cast aluminium | powder-coated steel | solid beech and aluminium
                    """),
                },
            ),
        ),
    ),
    _Department(
        slug="camping",
        kind="goods",
        interests=("camping", "backpacking"),
        related=("hiking", "cycling"),
        share=1.0,
        appeal=0.8,
        pools={
            "brand": _opts("""
                Emberline | Campcraft | Lumen Outdoor | Pinecrest | Trailhead Outfitters
                Starfall | Kestrel | Basecamp Supply
            """),
            "line": _opts("""
                Nomad | Wanderer | Cirrus | Polaris | Meadow | Firefly | Aurora | Dune
                Hearth | Glacier | Canyon | Starlight
            """),
            "gen": _opts("UL | Lite | Plus | XL | II | Pro"),
            "adj": _opts("packable | weatherproof | roomy | lightweight | rugged | dependable"),
            "color": _opts("olive | sand | orange | grey | forest green | blue"),
            "use": _opts("""
                weekend car camping | backcountry overnights | festival weekends
                family campouts | bikepacking trips | wild camping
            """),
        },
        subs=(
            _Sub(
                "tents",
                (89, 599),
                {
                    "ptype": _opts("""
                        2-Person Backpacking Tent | 4-Person Family Tent | 1-Person Ultralight Tent
                        3-Person Dome Tent | 6-Person Tunnel Tent
                    """),
                    "feature": _opts("""
                        colour-coded poles for a fast pitch
                        two doors and two vestibules
                        a full-coverage rainfly with taped seams
                        a freestanding design
                        mesh ceiling panels for stargazing
                        interior gear pockets and a lantern loop
                        a 3,000 mm hydrostatic head
                    """),
                    "material": _opts("""
                        silicone-coated ripstop nylon | recycled polyester
                        DAC aluminium poles and ripstop nylon
                    """),
                },
            ),
            _Sub(
                "sleeping-bags",
                (59, 449),
                {
                    "ptype": _opts("""
                        Down Sleeping Bag | Synthetic Sleeping Bag | Backpacking Quilt
                        Double Sleeping Bag
                    """),
                    "feature": _opts("""
                        a comfort rating of -5°C
                        a draught collar and insulated hood
                        a full-length two-way zip
                        a compression stuff sack
                        a roomy trapezoidal footbox
                    """),
                    "material": _opts("""
                        650-fill responsibly sourced down | 850-fill hydrophobic down
                        recycled synthetic insulation
                    """),
                },
            ),
            _Sub(
                "camp-kitchen",
                (19, 259),
                {
                    "ptype": _opts("""
                        Backpacking Stove | Two-Burner Camp Stove | Camp Cookset | Titanium Pot
                        Integrated Stove System
                    """),
                    "feature": _opts("""
                        a push-button piezo igniter
                        a wind-shielding burner
                        nesting pots that pack inside one another
                        a one-litre boil time of about three minutes
                        simmer-capable flame control
                        folding, heat-resistant handles
                    """),
                    "material": _opts("hard-anodised aluminium | titanium | stainless steel"),
                },
            ),
            _Sub(
                "lighting",
                (12, 99),
                {
                    "ptype": _opts("""
                        LED Camping Lantern | Rechargeable Headlamp | Camping String Lights
                        Solar Lantern
                    """),
                    "feature": _opts("""
                        a 400-lumen output
                        a red night-vision mode
                        USB-C charging
                        up to 60 hours of light on the low setting
                        an IPX4 water-resistant housing
                        a hanging hook and magnetic base
                    """),
                    "material": _opts("""
                        impact-resistant ABS | anodised aluminium | collapsible silicone
                    """),
                },
            ),
            _Sub(
                "furniture",
                (29, 199),
                {
                    "ptype": _opts("""
                        Camp Chair | Folding Camp Table | Ultralight Camp Chair | Camp Cot
                    """),
                    "feature": _opts("""
                        a packed size smaller than a water bottle
                        a shock-corded aluminium frame
                        a cup holder and side pocket
                        a 145 kg weight capacity
                        a padded carry bag
                    """),
                    "material": _opts("""
                        ripstop polyester and aluminium | 600D polyester and steel
                        bamboo slats and aluminium
                    """),
                },
            ),
        ),
    ),
    _Department(
        slug="cycling",
        kind="goods",
        interests=("cycling", "bike commuting"),
        related=("wearables", "camping"),
        share=1.0,
        appeal=0.9,
        pools={
            "brand": _opts("""
                Spokeworks | Gravelline | Chainring & Co | Cadence Cycles | Velocita | Roadcraft
                Bikehaus | Freewheel
            """),
            "line": _opts("""
                Granfondo | Strada | Sprint | Tour | Metro | Velo | Climb | Endurance | Corsa
                Rapide | Col | Vento
            """),
            "gen": _opts("2 | 3 | Pro | SL | Elite | Comp | Sport"),
            "adj": _opts(
                "aerodynamic | lightweight | comfortable | reliable | confidence-inspiring"
            ),
            "color": _opts(
                "matte black | racing red | white | teal | sand | hi-vis yellow | gunmetal"
            ),
            "use": _opts("""
                daily commutes | long weekend rides | gravel adventures | sportives
                winter riding | club rides
            """),
        },
        subs=(
            _Sub(
                "bikes",
                (549, 3999),
                {
                    "ptype": _opts("""
                        Gravel Bike | Road Bike | Hybrid Commuter Bike | Electric Commuter Bike
                        Hardtail Mountain Bike
                    """),
                    "feature": _opts("""
                        hydraulic disc brakes
                        a 1x12 drivetrain
                        clearance for 45 mm tyres
                        internal cable routing
                        mudguard and rack mounts
                        a full carbon fork
                        tubeless-ready wheels
                    """),
                    "material": _opts("""
                        a 6061 aluminium frame | a carbon fibre frame | a chromoly steel frame
                    """),
                },
            ),
            _Sub(
                "helmets",
                (39, 259),
                {
                    "ptype": _opts("Road Bike Helmet | MTB Helmet | Commuter Helmet"),
                    "feature": _opts("""
                        a rotational impact protection liner
                        14 ventilation channels
                        an integrated rear LED light
                        a dial-fit retention system
                        a magnetic one-handed buckle
                        a removable, washable liner
                    """),
                    "material": _opts("""
                        in-moulded EPS foam and polycarbonate | a recycled polycarbonate shell
                    """),
                },
            ),
            _Sub(
                "lights",
                (15, 199),
                {
                    "ptype": _opts("""
                        Front Bike Light | Rear Bike Light | Bike Light Set
                        Radar Rear Light
                    """),
                    "feature": _opts("""
                        an 800-lumen beam
                        a daytime flash mode
                        USB-C fast charging
                        an IPX6 waterproof rating
                        tool-free handlebar mounting
                        a battery level indicator
                    """),
                    "material": _opts("aluminium | weather-sealed polycarbonate"),
                },
            ),
            _Sub(
                "apparel",
                (25, 229),
                {
                    "ptype": _opts("""
                        Cycling Jersey | Bib Shorts | Thermal Cycling Jacket | Cycling Gloves
                        Windproof Gilet
                    """),
                    "feature": _opts("""
                        flatlock seams that prevent chafing
                        reflective details for low-light visibility
                        a race-cut fit
                        quick-drying, moisture-wicking fabric
                        UPF 50 sun protection
                        silicone grippers that keep everything in place
                    """),
                    "material": _opts("""
                        recycled polyester | a merino wool blend | brushed thermal fabric
                        lightweight Italian stretch fabric
                    """),
                },
            ),
            _Sub(
                "computers-trainers",
                (99, 1199),
                {
                    "ptype": _opts("""
                        GPS Bike Computer | Smart Turbo Trainer | Direct-Drive Smart Trainer
                    """),
                    "feature": _opts("""
                        compatibility with popular training apps
                        ANT+ and Bluetooth sensor support
                        power readings accurate to within 2%
                        automatic resistance control for structured workouts
                        free firmware updates
                        turn-by-turn navigation and route planning
                    """),
                    "material": _opts("""
                        a rugged polycarbonate case | steel and aluminium | toughened glass
                    """),
                    "use": _opts("""
                        indoor training | structured winter workouts | virtual races
                        long weekend rides
                    """),
                },
            ),
        ),
    ),
    _Department(
        slug="yoga",
        kind="goods",
        interests=("yoga", "meditation"),
        related=("skincare", "wearables"),
        share=0.8,
        appeal=0.8,
        pools={
            "brand": _opts("""
                Lotus & Lark | Asana Works | Stillpoint | Groundwell | Kindred Flow
                Sattva Studio | Mooncircle | Balance Theory
            """),
            "line": _opts("""
                Flow | Zen | Balance | Harmony | Align | Sol | Luna | Root | Breathe | Still
                Grace | Tide
            """),
            "gen": _opts("2 | Pro | Plus | Lite | Essential"),
            "adj": _opts("grippy | supportive | comfortable | lightweight | beautifully made"),
            "color": _opts("sage | dusty rose | charcoal | ocean teal | lavender | sand | plum"),
            "use": _opts("""
                hot yoga classes | daily home practice | pilates | restorative sessions
                meditation | yoga retreats
            """),
        },
        subs=(
            _Sub(
                "mats",
                (25, 139),
                {
                    "ptype": _opts(
                        "Yoga Mat | Travel Yoga Mat | Extra-Thick Yoga Mat | Hot Yoga Mat Towel"
                    ),
                    "feature": _opts("""
                        a 6 mm cushioned thickness
                        alignment lines etched into the surface
                        a non-slip texture that grips even when damp
                        a closed-cell surface that resists sweat and odour
                        a matching carry strap
                        an extra-long 183 cm length
                    """),
                    "material": _opts("""
                        natural tree rubber | biodegradable TPE | cork and natural rubber
                        microfibre suede and rubber
                    """),
                },
            ),
            _Sub(
                "props",
                (9, 79),
                {
                    "ptype": _opts("""
                        Cork Yoga Block | Yoga Strap | Yoga Bolster | Meditation Cushion
                        Yoga Wheel
                    """),
                    "feature": _opts("""
                        a firm, supportive shape
                        bevelled edges that sit comfortably in the hand
                        a removable, washable cover
                        a sturdy carry handle
                        a non-slip surface
                    """),
                    "material": _opts("""
                        sustainably harvested cork | organic cotton and buckwheat hulls
                        recycled EVA foam | hemp canvas
                    """),
                },
            ),
            _Sub(
                "apparel",
                (29, 119),
                {
                    "ptype": _opts("""
                        Yoga Leggings | Sports Bra | Yoga Shorts | Relaxed Yoga Trousers
                        Wrap Top
                    """),
                    "feature": _opts("""
                        a high-rise, squat-proof waistband
                        a hidden waistband pocket
                        four-way stretch
                        moisture-wicking, quick-drying fabric
                        flatlock seams
                        a buttery-soft brushed finish
                    """),
                    "material": _opts("""
                        recycled nylon and elastane | organic cotton jersey | bamboo viscose
                        a lyocell blend
                    """),
                },
            ),
        ),
    ),
    _Department(
        slug="skincare",
        kind="consumable",
        interests=("skincare", "self-care"),
        related=("yoga",),
        share=0.9,
        appeal=0.9,
        pools={
            "title": ("{brand} {sline} {ptype}, {size}",),
            "ref": ("this {brand} {sline} {ptype}",),
            "brand": _opts("""
                Dewlab | Botanica Skin | Purelume | Saltmarsh Apothecary | Verdant | Clearform
                Meridian Skin | Fieldbloom
            """),
            "use": _opts("""
                morning routines | evening routines | post-workout skin | city commutes
                dry winter months | travel
            """),
            "closer": _opts("""
                Suitable for all skin types.
                Dermatologist tested and cruelty-free.
                Packaged in recycled and recyclable materials.
                Free from added fragrance, parabens and mineral oil.
            """),
        },
        subs=(
            _Sub(
                "cleansers",
                (8, 34),
                {
                    "sline": _opts("Gentle | Calm | Clarifying | Pure | Daily | Hydra"),
                    "ptype": _opts(
                        "Foaming Cleanser | Cream Cleanser | Cleansing Balm | Gel Cleanser"
                    ),
                    "size": _opts("100 ml | 150 ml | 200 ml"),
                    "feature": _opts("""
                        a pH-balanced formula
                        a gentle lather that rinses clean
                        makeup removal without tugging
                        a sulphate-free formula
                        a soft, never-tight feel after washing
                    """),
                    "material": _opts("""
                        glycerin and oat extract | ceramides and amino acids
                        green tea and aloe vera | squalane and chamomile
                    """),
                },
                attrs=("size",),
            ),
            _Sub(
                "moisturisers",
                (12, 69),
                {
                    "sline": _opts("Daily | Calm | Ceramide | Hydra | Overnight | Radiance"),
                    "ptype": _opts(
                        "Facial Moisturiser | Night Cream | Gel Moisturiser | Eye Cream"
                    ),
                    "size": _opts("15 ml | 30 ml | 50 ml | 75 ml"),
                    "feature": _opts("""
                        72-hour hydration
                        a lightweight, non-greasy finish
                        a non-comedogenic formula
                        a dermatologist-tested formula
                        a refillable glass jar
                    """),
                    "material": _opts("""
                        hyaluronic acid and ceramides | shea butter and squalane
                        niacinamide and panthenol | peptides and vitamin E
                    """),
                },
                attrs=("size",),
            ),
            _Sub(
                "sunscreen",
                (10, 39),
                {
                    "sline": _opts("Daily | Invisible | Sheer | Active | Everyday"),
                    "ptype": _opts("""
                        Sunscreen SPF 50 | Mineral Sunscreen SPF 30 | Tinted Sunscreen SPF 40
                        Sport Sunscreen SPF 50+ | Face Fluid SPF 50
                    """),
                    "size": _opts("40 ml | 50 ml | 100 ml | 200 ml"),
                    "feature": _opts("""
                        broad-spectrum UVA and UVB protection
                        80 minutes of water resistance
                        a sheer finish with no white cast
                        a reef-friendly formula
                        a matte finish that sits well under makeup
                    """),
                    "material": _opts("""
                        zinc oxide | modern UV filters and vitamin E
                        zinc oxide and green tea extract
                    """),
                    "use": _opts("""
                        everyday wear | long trail runs | beach days | ski trips | school runs
                    """),
                },
                attrs=("size",),
            ),
            _Sub(
                "serums",
                (14, 59),
                {
                    "sline": _opts("Radiance | Glow | Renew | Clear | Hydra | Overnight"),
                    "ptype": _opts("""
                        Vitamin C Serum | Retinol Serum | Hyaluronic Acid Serum
                        Niacinamide Serum | Exfoliating Toner
                    """),
                    "size": _opts("15 ml | 30 ml | 50 ml"),
                    "feature": _opts("""
                        a fast-absorbing texture
                        visible results in four weeks
                        a light-protective amber bottle with a dropper
                        a fragrance-free, vegan formula
                        a gentle introduction for sensitive skin
                    """),
                    "material": _opts("""
                        clinically studied actives | a lightweight squalane base
                        a vegan, cruelty-free base
                    """),
                },
                attrs=("size",),
            ),
        ),
    ),
    _Department(
        slug="toys-games",
        kind="goods",
        interests=("board games", "parenting"),
        related=("books",),
        share=0.9,
        appeal=0.7,
        pools={
            "brand": _opts("""
                Brightblock | Meeple & Co | Tinker Town | Playforge | Little Sprout
                Wondercraft | Cobblestone Games
            """),
            "line": _opts(
                "Explorer | Creator | Junior | Discovery | Genius | Builder | Maker | Mega"
            ),
            "gen": _opts("Deluxe | Plus | Max | 2"),
            "adj": _opts("clever | engaging | sturdy | colourful | replayable"),
            "use": _opts("""
                family game nights | rainy afternoons | birthday parties | screen-free weekends
                holiday gatherings
            """),
            "age": _opts("3+ | 4+ | 6+ | 8+"),
            "desc_close": (
                "Recommended for ages {age}.",
                "A great gift for anyone into {interest}.",
                "Ships plastic-free in recyclable packaging.",
            ),
        },
        subs=(
            _Sub(
                "board-games",
                (15, 69),
                {
                    "title": ("{gname} – {ptype}",),
                    "ref": ("{gname}",),
                    "gname": ("{gadj} {gnoun}",),
                    "gadj": _opts("""
                        Clockwork | Lantern | Starlight | Copper | Tidal | Ember | Velvet | Paper
                        Thunder | Moonlit | Wild | Sunken | Crystal | Harbour
                    """),
                    "gnoun": _opts("""
                        Harvest | Kingdoms | Expedition | Heist | Canals | Orchard | Skies
                        Caravans | Dungeon | Bazaar | Railways | Islands | Alchemists | Observatory
                    """),
                    "ptype": _opts("""
                        Strategy Board Game | Cooperative Board Game | Family Card Game
                        Party Game | Deck-Building Game | Tile-Laying Game
                    """),
                    "feature": _opts("""
                        games that play in 30 to 45 minutes
                        rules that can be taught in ten minutes
                        support for 2 to 5 players
                        a satisfying solo mode
                        beautifully illustrated cards
                        chunky wooden pieces
                        an insert with room for expansions
                    """),
                    "material": _opts("""
                        linen-finish cards and wooden meeples | thick recycled cardboard tiles
                        FSC-certified wood and card
                    """),
                    "use": _opts("""
                        family game nights | date nights | parties | rainy afternoons
                        game-café evenings
                    """),
                    "age": _opts("8+ | 10+ | 12+ | 14+"),
                    "interest": ("board games",),
                },
                attrs=("age",),
            ),
            _Sub(
                "puzzles",
                (12, 45),
                {
                    "title": ("{brand} {pscene} {ptype}",),
                    "ref": ("this {pscene} puzzle",),
                    "brand": _opts("""
                        Puzzlewood | Cobblestone Games | Paper Lantern Puzzles | Jigsaw Junction
                        Tessellate
                    """),
                    "pscene": _opts("""
                        Alpine Village | Coastal Lighthouse | Night Market | Botanical Garden
                        Vintage World Map | Autumn Forest | Bookshop Cat | Coral Reef
                        Venice at Dusk | Mountain Railway | Wildflower Meadow | Spice Market
                        Winter Cabin | Hot Air Balloons | Cosy Library | Koi Pond
                    """),
                    "ptype": _opts("""
                        1000-Piece Jigsaw Puzzle | 500-Piece Jigsaw Puzzle
                        2000-Piece Jigsaw Puzzle
                    """),
                    "feature": _opts("""
                        a random-cut piece shape
                        a full-size reference poster
                        pieces that lock snugly with no false fits
                        a sturdy storage box
                        a glare-free linen finish
                    """),
                    "material": _opts("""
                        thick recycled board | blue-core puzzle board | sustainably sourced wood
                    """),
                    "use": _opts("""
                        rainy afternoons | quiet evenings | holiday gatherings
                        screen-free weekends
                    """),
                    "age": _opts("10+ | 12+ | 14+"),
                    "interest": ("board games",),
                },
                attrs=("age",),
            ),
            _Sub(
                "building",
                (15, 149),
                {
                    "ptype": _opts("""
                        Building Blocks Set | Magnetic Tile Set | Marble Run Kit
                        STEM Robotics Kit | Wooden Train Set
                    """),
                    "feature": _opts("""
                        over 300 compatible pieces
                        step-by-step illustrated instructions
                        open-ended play that grows with your child
                        a storage tub that doubles as a build base
                        rounded, child-safe edges
                    """),
                    "material": _opts("""
                        BPA-free ABS plastic | FSC-certified beech wood | food-grade silicone
                    """),
                    "interest": ("parenting",),
                },
                attrs=("age",),
            ),
        ),
    ),
    _Department(
        slug="gardening",
        kind="goods",
        interests=("gardening", "growing vegetables"),
        related=("kitchen",),
        share=0.8,
        appeal=0.7,
        pools={
            "brand": _opts("""
                Greenthumb Co. | Rootstock | Willow & Spade | Fernhill | Terrafirma | Bloomwell
                Potting Shed Supply | Hedgerow
            """),
            "model": ("{line}",),
            "line": _opts("Heritage | Pro | Classic | Urban | Cottage | Allotment | Balcony"),
            "adj": _opts("hard-wearing | ergonomic | weatherproof | compact | well-made"),
            "color": _opts("terracotta | sage green | charcoal | natural | cream | forest green"),
            "use": _opts("""
                raised beds | balcony gardens | allotment plots | spring planting
                autumn tidy-ups | container growing
            """),
        },
        subs=(
            _Sub(
                "tools",
                (12, 89),
                {
                    "ptype": _opts("""
                        Hand Trowel | Bypass Pruning Shears | Digging Fork | Border Spade
                        Hori Hori Knife | Hedge Shears | 3-Piece Hand Tool Set
                    """),
                    "feature": _opts("""
                        a comfortable ash-wood handle
                        a rust-resistant blade
                        depth markings for accurate planting
                        a hanging hole for tidy storage
                        a leather holster
                        a strong, welded neck
                    """),
                    "material": _opts("""
                        carbon steel | stainless steel | FSC-certified ash | forged boron steel
                    """),
                },
            ),
            _Sub(
                "planters",
                (15, 229),
                {
                    "ptype": _opts("""
                        Self-Watering Planter | Raised Garden Bed | Terracotta Pot Set
                        Hanging Planter | Window Box
                    """),
                    "feature": _opts("""
                        a built-in water reservoir
                        drainage holes with removable plugs
                        UV-stable colour that will not fade
                        frost-resistant construction
                        a water-level indicator
                    """),
                    "material": _opts("""
                        recycled plastic | galvanised steel | cedar wood | hand-thrown terracotta
                    """),
                },
            ),
            _Sub(
                "seeds",
                (2, 15),
                {
                    "title": ("{brand} {variety} Seeds, {pack}",),
                    "ref": ("this {variety} selection",),
                    "description": (
                        "{seed_open} {seed_mid}",
                        "{seed_open} {seed_mid} {seed_close}",
                    ),
                    "seed_open": _opts("""
                        {ref_cap} is grown from {material} and offers {feature}.
                        Grown from {material}, {ref} delivers {feature} and {feature2}.
                    """),
                    "seed_mid": _opts("""
                        Expect {feature3}, which makes it ideal for {use}.
                        Gardeners choose it for {use}, thanks to {feature3}.
                    """),
                    "seed_close": _opts("""
                        Each packet includes sowing and growing instructions.
                        Packed for the current season and stored cool and dry.
                        A great gift for anyone into gardening.
                    """),
                    "variety": _opts("""
                        Heirloom Tomato 'Brandywine' | Cherry Tomato 'Sungold' | Basil 'Genovese'
                        Sweet Pea Mix | Rainbow Chard | Wildflower Meadow Mix | Butterhead Lettuce
                        Sunflower 'Giant Russian' | Chilli Pepper 'Padrón'
                        Courgette 'Black Beauty' | Cosmos 'Sensation' Mix | Carrot 'Nantes'
                        Runner Bean 'Scarlet Emperor'
                        Kale 'Cavolo Nero' | Coriander 'Leisure'
                    """),
                    "pack": _opts(
                        "Packet of 50 | Packet of 100 | Organic, 2 g | Value Pack of 250"
                    ),
                    "feature": _opts("""
                        germination rates tested every season
                        suitability for containers and small spaces
                        a long harvest window from summer into autumn
                        varieties chosen for flavour over shelf life
                        strong, vigorous seedlings
                    """),
                    "material": _opts(
                        "organic, open-pollinated seed | non-GMO seed | untreated heirloom seed"
                    ),
                    "use": _opts("""
                        spring sowing | balcony containers | pollinator-friendly borders
                        raised beds | first-time growers
                    """),
                    "color": (),
                    "interest": ("growing vegetables",),
                },
                attrs=("variety", "pack"),
            ),
            _Sub(
                "watering",
                (19, 139),
                {
                    "ptype": _opts("""
                        Expandable Garden Hose | Hose Reel Cart | Drip Irrigation Kit
                        Soaker Hose
                    """),
                    "feature": _opts("""
                        kink-resistant construction
                        brass fittings that will not corrode
                        a 10-pattern spray nozzle
                        UV-stabilised materials
                        easy connection to any standard outdoor tap
                    """),
                    "material": _opts("""
                        UV-stabilised PVC | triple-layer latex and polyester | recycled rubber
                    """),
                },
            ),
        ),
    ),
)

_DEPARTMENT_BY_SLUG: dict[str, _Department] = {dept.slug: dept for dept in _DEPARTMENTS}
_DEPARTMENT_BY_INTEREST: dict[str, str] = {
    interest: dept.slug for dept in _DEPARTMENTS for interest in dept.interests
}

_PROFILE_CLAUSES: dict[str, tuple[str, ...]] = {
    "running": _opts("""
        I run trails on weekends | I'm training for my first half marathon
        I log around 40 km a week, mostly before work
    """),
    "marathons": _opts("""
        I've run six marathons and I'm chasing a sub-3:30
        I follow a structured marathon plan every spring
        race weekends are my favourite kind of holiday
    """),
    "hiking": _opts("""
        I hike in the mountains most weekends | I'm slowly ticking off long-distance trails
        I love a long ridge walk with a flask of coffee
    """),
    "outdoors": _opts("""
        I spend as much time outside as I can | my best days end muddy
        I plan my holidays around national parks
    """),
    "fitness tracking": _opts("""
        I track my sleep, steps and heart rate obsessively
        I like seeing my training data after every workout
        I'm trying to hit 10,000 steps a day
    """),
    "wearables": _opts("""
        I'm always curious about the latest wearables
        I upgrade my watch every couple of years | I like gadgets that quietly do their job
    """),
    "music": _opts("""
        I listen to music pretty much all day | I play guitar in a weekend band
        I'm a bit of a hi-fi nerd
    """),
    "podcasts": _opts("""
        I listen to podcasts on my commute | I get through a few audiobooks a month
        I need good noise cancelling on the train
    """),
    "cooking": _opts("""
        I cook dinner from scratch most nights | I love trying recipes from different cuisines
        I'm slowly upgrading my kitchen to kit that lasts
    """),
    "baking": _opts("""
        I bake sourdough every weekend | I make birthday cakes for half my friends
        my kitchen is usually dusted in flour
    """),
    "coffee": _opts("""
        I'm serious about my morning pour-over | I dial in espresso at home most mornings
        I like trying beans from small roasters
    """),
    "tea": _opts("""
        I drink loose-leaf tea all day | I'm learning about Chinese and Japanese teas
        a pot of tea is my afternoon ritual
    """),
    "reading": _opts("""
        I read a novel a week | I'm in two book clubs | I always have a book in my bag
    """),
    "popular science": _opts("""
        I love popular science books | I read about space and biology before bed
        I'm curious about how the brain works
    """),
    "remote work": _opts("""
        I work from home full time | I'm setting up a proper home office
        I spend a lot of the day on video calls
    """),
    "productivity": _opts("""
        I'm always tweaking my desk setup | I care about ergonomics after years of back pain
        I like a tidy, minimal workspace
    """),
    "camping": _opts("""
        we go camping with the kids most summers | I love waking up in a tent by a lake
        I'm planning a road trip with nights under canvas
    """),
    "backpacking": _opts("""
        I do overnight backpacking trips whenever I can | I'm trying to cut my base weight
        I like carrying everything I need on my back
    """),
    "cycling": _opts("""
        I ride 150 km most weekends | I'm getting into gravel riding
        I ride indoors through the winter
    """),
    "bike commuting": _opts("""
        I cycle to work year-round | I need lights and kit that cope with rain
        my bike is my main way of getting around town
    """),
    "yoga": _opts("""
        I practise yoga four times a week | I've just started going to hot yoga classes
        yoga keeps my back happy
    """),
    "meditation": _opts("""
        I meditate every morning | I'm trying to build a calmer evening routine
        breathwork helps me switch off after work
    """),
    "skincare": _opts("""
        I'm building a simple skincare routine
        I have sensitive skin and read every ingredient list | I wear sunscreen every day
    """),
    "self-care": _opts("""
        Sunday evenings are for a long bath and a face mask
        I'm trying to look after myself a bit better
        I like small rituals that make the day feel slower
    """),
    "board games": _opts("""
        we host a board game night every Friday | I love cooperative games
        our shelf of board games is getting out of hand
    """),
    "parenting": _opts("""
        I have two kids under ten | I'm always looking for toys that aren't just plastic
        I like gifts that get the kids building and thinking
    """),
    "gardening": _opts("""
        I have an allotment and grow most of our vegetables
        I'm turning my balcony into a small garden | I'm happiest with my hands in the soil
    """),
    "growing vegetables": _opts("""
        I grow tomatoes, beans and chillies every summer | I start all my seeds indoors in spring
        I'm trying to grow as much of our own food as possible
    """),
}

_PROFILE_CLOSERS = _opts("""
    Always on the lookout for gear that lasts.
    I care more about quality than brand names.
    I'm happy to spend a bit more on things that last.
    Good-value recommendations are always welcome.
    I read a lot of reviews before I buy anything.
""")

_AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
_AGE_WEIGHTS = (14, 30, 24, 16, 10, 6)

# Evening-heavy shopping pattern, indexed by hour of day (UTC).
_HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 6, 7, 8, 7, 6, 6, 7, 8, 10, 12, 12, 10, 6, 3)


class _Grammar(dict[str, str]):
    """Expands ``{slot}`` templates, fixing each slot's choice once per item."""

    def __init__(self, pools: Mapping[str, Sequence[str]], rng: random.Random) -> None:
        super().__init__()
        self._pools = pools
        self._rng = rng

    def __missing__(self, key: str) -> str:
        if key.endswith("_cap"):
            text = self[key.removesuffix("_cap")]
            value = text[:1].upper() + text[1:]
        elif key.endswith("_lower"):
            value = self[key.removesuffix("_lower")].lower()
        elif self._pools.get(key):
            value = self._rng.choice(self._pools[key]).format_map(self)
        elif key[-1:].isdigit() and self._pools.get(key[:-1]):
            # Numbered slots ("feature2") must differ from their already chosen siblings.
            base = key[:-1]
            taken = {self.get(base), *(self.get(f"{base}{n}") for n in range(2, 10))}
            options = [opt for opt in self._pools[base] if opt not in taken]
            value = self._rng.choice(options or self._pools[base]).format_map(self)
        else:
            raise KeyError(key)
        self[key] = value
        return value


def _merged_pools(dept: _Department, sub: _Sub) -> Pools:
    """Combine kind defaults, department and sub-category pools (most specific wins)."""
    pools: Pools = {"interest": dept.interests}
    pools.update(_KIND_POOLS[dept.kind])
    pools.update(dept.pools)
    pools.update(sub.pools)
    return pools


def _price(rng: random.Random, low: float, high: float) -> float:
    """Draw a log-uniform price and snap it to a shop-like price point."""
    raw = math.exp(rng.uniform(math.log(low), math.log(high)))
    if raw < 50:
        return round(math.floor(raw) + 0.99, 2)
    if raw < 1000:
        return float(math.floor(raw / 10) * 10 + 9)
    return float(math.floor(raw / 50) * 50 + 49)


def _attribute(value: str) -> object:
    return int(value) if value.isdigit() else value


def _build_item(
    rng: random.Random, dept: _Department, sub: _Sub, pools: Pools
) -> dict[str, object]:
    grammar = _Grammar(pools, rng)
    title = grammar["title"]
    description = grammar["description"]
    attributes: dict[str, object] = {
        "brand": grammar["brand"],
        "price": _price(rng, *sub.price),
    }
    for slot in (*_KIND_ATTRS[dept.kind], *sub.attrs):
        if pools.get(slot):
            attributes[slot] = _attribute(grammar[slot])
    return {
        "title": title,
        "description": description,
        "categories": [dept.slug, sub.slug],
        "attributes": attributes,
    }


def generate_items(count: int = 2400, *, seed: int = 7) -> list[dict[str, object]]:
    """Generate ``count`` catalogue items spread over all demo departments."""
    rng = random.Random(f"demo-items:{seed}")
    cum_shares = list(itertools.accumulate(dept.share for dept in _DEPARTMENTS))
    pools_by_sub = {
        (dept.slug, sub.slug): _merged_pools(dept, sub)
        for dept in _DEPARTMENTS
        for sub in dept.subs
    }
    seen_titles: set[str] = set()
    items: list[dict[str, object]] = []
    for index in range(1, count + 1):
        dept = rng.choices(_DEPARTMENTS, cum_weights=cum_shares)[0]
        sub = rng.choice(dept.subs)
        pools = pools_by_sub[(dept.slug, sub.slug)]
        item = _build_item(rng, dept, sub, pools)
        for _ in range(30):
            if item["title"] not in seen_titles:
                break
            item = _build_item(rng, dept, sub, pools)
        else:
            # The sub-category's combinations are exhausted: mark it as a distinct edition.
            item["title"] = f"{item['title']} (Edition {index})"
        seen_titles.add(str(item["title"]))
        items.append(
            {
                "id": f"sku-{index:05d}",
                **item,
                "available": rng.random() >= 0.03,
            }
        )
    return items


def _pick_weighted_distinct(
    rng: random.Random, options: Sequence[str], weights: Sequence[float], k: int
) -> list[str]:
    chosen: list[str] = []
    candidates = list(zip(options, weights, strict=True))
    for _ in range(min(k, len(candidates))):
        pick = rng.choices(candidates, weights=[w for _, w in candidates])[0]
        chosen.append(pick[0])
        candidates.remove(pick)
    return chosen


def _favourite_departments(rng: random.Random) -> list[str]:
    count = rng.choices((1, 2, 3), weights=(35, 45, 20))[0]
    slugs = [dept.slug for dept in _DEPARTMENTS]
    first = _pick_weighted_distinct(rng, slugs, [dept.appeal for dept in _DEPARTMENTS], 1)[0]
    favourites = [first]
    while len(favourites) < count:
        # Real shoppers cluster (runners buy watches), so lean towards related departments.
        related = [s for s in _DEPARTMENT_BY_SLUG[first].related if s not in favourites]
        if related and rng.random() < 0.6:
            favourites.append(rng.choice(related))
            continue
        rest = [d for d in _DEPARTMENTS if d.slug not in favourites]
        favourites.extend(
            _pick_weighted_distinct(rng, [d.slug for d in rest], [d.appeal for d in rest], 1)
        )
    return favourites


def _profile_text(rng: random.Random, interests: Sequence[str]) -> str:
    clauses = [rng.choice(_PROFILE_CLAUSES[interest]) for interest in interests[:3]]
    sentences: list[str] = []
    while clauses:
        if len(clauses) >= 2 and rng.random() < 0.5:
            text = f"{clauses[0]} and {clauses[1]}"
            clauses = clauses[2:]
        else:
            text = clauses[0]
            clauses = clauses[1:]
        sentences.append(f"{text[:1].upper()}{text[1:]}.")
    if rng.random() < 0.6:
        sentences.append(rng.choice(_PROFILE_CLOSERS))
    return " ".join(sentences)


def generate_users(count: int = 400, *, seed: int = 7) -> list[dict[str, object]]:
    """Generate ``count`` users whose interests reflect 1-3 favourite departments."""
    rng = random.Random(f"demo-users:{seed}")
    users: list[dict[str, object]] = []
    for index in range(1, count + 1):
        interests: list[str] = []
        for slug in _favourite_departments(rng):
            tags = _DEPARTMENT_BY_SLUG[slug].interests
            interests.extend(tags if rng.random() < 0.3 else [rng.choice(tags)])
        user: dict[str, object] = {
            "id": f"u-{index:04d}",
            "attributes": {
                "age_band": rng.choices(_AGE_BANDS, weights=_AGE_WEIGHTS)[0],
                "interests": interests,
            },
        }
        if rng.random() < 0.5:
            user["profile_text"] = _profile_text(rng, interests)
        users.append(user)
    return users


def _as_utc(now: datetime.datetime | None) -> datetime.datetime:
    if now is None:
        return DEFAULT_NOW
    if now.tzinfo is None:
        return now.replace(tzinfo=datetime.UTC)
    return now.astimezone(datetime.UTC)


def _format_ts(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _session_start(rng: random.Random, now: datetime.datetime) -> datetime.datetime:
    """Pick a moment in the history window, favouring evening hours."""
    window_start = now - datetime.timedelta(days=HISTORY_DAYS)
    day = (now - datetime.timedelta(days=rng.randrange(HISTORY_DAYS + 1))).replace(
        hour=rng.choices(range(24), weights=_HOUR_WEIGHTS)[0],
        minute=rng.randrange(60),
        second=rng.randrange(60),
        microsecond=0,
    )
    if window_start < day < now:
        return day
    return now - datetime.timedelta(seconds=rng.randrange(1, HISTORY_DAYS * 86400))


def _user_departments(
    rng: random.Random, user: Mapping[str, object], departments: Sequence[str]
) -> list[str]:
    attributes = user.get("attributes")
    interests = attributes.get("interests", []) if isinstance(attributes, Mapping) else []
    favourites: list[str] = []
    for interest in interests if isinstance(interests, list) else []:
        slug = _DEPARTMENT_BY_INTEREST.get(str(interest))
        if slug is not None and slug in departments and slug not in favourites:
            favourites.append(slug)
    if not favourites:
        favourites = rng.sample(list(departments), k=min(2, len(departments)))
    return favourites


def generate_interactions(
    items: list[dict[str, object]],
    users: list[dict[str, object]],
    *,
    per_user_mean: int = 40,
    seed: int = 7,
    now: datetime.datetime | None = None,
) -> list[dict[str, object]]:
    """Generate funnel-shaped events concentrated in each user's favourite departments."""
    rng = random.Random(f"demo-interactions:{seed}")
    now = _as_utc(now)
    by_department: dict[str, list[dict[str, object]]] = {}
    for item in items:
        categories = item.get("categories")
        slug = str(categories[0]) if isinstance(categories, list) and categories else "other"
        by_department.setdefault(slug, []).append(item)
    if not by_department or not users:
        return []

    # Zipf-like popularity inside each department, over a seeded random ranking.
    popularity: dict[str, tuple[list[dict[str, object]], list[float]]] = {}
    quality: dict[str, float] = {}
    for slug, dept_items in by_department.items():
        ranked = list(dept_items)
        rng.shuffle(ranked)
        weights = [
            (0.3 if item.get("available") is False else 1.0) / (rank + 1) ** 1.05
            for rank, item in enumerate(ranked)
        ]
        popularity[slug] = (ranked, list(itertools.accumulate(weights)))
        for item in ranked:
            quality[str(item["id"])] = rng.betavariate(4, 2)
    departments = list(by_department)

    sigma = 0.6
    mu = math.log(max(per_user_mean, 1)) - sigma**2 / 2
    raw_events: list[tuple[datetime.datetime, str, str, str, float]] = []
    for user in users:
        user_id = str(user["id"])
        favourites = _user_departments(rng, user, departments)
        fav_weights = list(itertools.accumulate([0.55, 0.3, 0.15][: len(favourites)]))
        if len(favourites) > 3:
            fav_weights = list(itertools.accumulate([1.0] * len(favourites)))
        others = [slug for slug in departments if slug not in favourites]
        related = [
            slug
            for fav in favourites
            if fav in _DEPARTMENT_BY_SLUG
            for slug in _DEPARTMENT_BY_SLUG[fav].related
            if slug in others
        ]
        target = max(5, round(rng.lognormvariate(mu, sigma)))
        emitted = 0
        while emitted < target:
            if not others or rng.random() < FAVOURITE_SHARE:
                slug = rng.choices(favourites, cum_weights=fav_weights)[0]
            elif related and rng.random() < 0.5:
                slug = rng.choice(related)
            else:
                slug = rng.choice(others)
            ranked, cum_weights = popularity[slug]
            item = rng.choices(ranked, cum_weights=cum_weights)[0]
            item_id = str(item["id"])
            in_stock = item.get("available") is not False
            moment = _session_start(rng, now)
            funnel: list[tuple[str, float]] = [("view", 1.0)]
            if rng.random() < 0.08:
                funnel.append(("like", 1.0))
            if rng.random() < 0.32:
                funnel.append(("click", 1.0))
                if in_stock and rng.random() < 0.35:
                    funnel.append(("cart", 1.0))
                    if rng.random() < 0.55:
                        funnel.append(("purchase", 1.0))
                        if rng.random() < 0.4:
                            score = 1.2 + 3.6 * quality[item_id] + rng.gauss(0, 0.7)
                            funnel.append(("rating", float(min(5, max(1, round(score))))))
            for event_type, value in funnel:
                if event_type == "rating":
                    step = datetime.timedelta(hours=rng.uniform(24, 240))
                elif event_type in ("cart", "purchase"):
                    step = datetime.timedelta(seconds=rng.randint(30, 1800))
                else:
                    step = datetime.timedelta(seconds=rng.randint(3, 120))
                if event_type != "view":
                    moment += step
                if moment >= now:
                    # The rest of this funnel has not happened yet.
                    break
                raw_events.append((moment, user_id, item_id, event_type, value))
                emitted += 1

    raw_events.sort(key=lambda event: (event[0], event[1], EVENT_TYPES.index(event[3])))
    return [
        {
            "user": user_id,
            "item": item_id,
            "type": event_type,
            "value": value,
            "timestamp": _format_ts(moment),
            "event_id": f"demo-e-{index:06d}",
        }
        for index, (moment, user_id, item_id, event_type, value) in enumerate(raw_events, 1)
    ]
