//! The vocabulary of generated homes: place names, item nouns by category, and the words of notes.
//!
//! Lists are ordered from the most to the least common entry: the generator draws from them
//! with a Zipf-like skew. No entry holds [`super::COMMON_WORD`] or [`super::RARE_WORD`]; those
//! are placed on purpose, so that their frequencies are known.

/// House names, numbered once they run out (`Cabin 2`).
pub(super) const HOUSES: &[&str] = &[
    "Main House",
    "Cabin",
    "Flat",
    "Cottage",
    "Beach House",
    "Townhouse",
    "Farmhouse",
    "Bungalow",
    "Lake House",
    "Chalet",
    "Studio",
    "Summer House",
    "Villa",
    "Loft",
    "Barn",
    "Grandma's House",
];

/// Room names, numbered once they run out (`Attic 2`).
pub(super) const ROOMS: &[&str] = &[
    "Kitchen",
    "Living Room",
    "Bedroom",
    "Bathroom",
    "Garage",
    "Attic",
    "Basement",
    "Office",
    "Hallway",
    "Laundry",
    "Kids' Room",
    "Guest Room",
    "Dining Room",
    "Pantry",
    "Workshop",
    "Storage Room",
    "Shed",
    "Utility Room",
    "Nursery",
    "Cellar",
];

/// Containers that are furniture and may hold shelves, numbered by their place among their
/// siblings (`Cupboard 2`).
pub(super) const FURNITURE: &[&str] = &["Cupboard", "Wardrobe", "Cabinet", "Chest", "Dresser"];

/// Containers that hold only other containers (`Box 17`).
pub(super) const BOXES: &[&str] = &[
    "Box", "Drawer", "Bin", "Crate", "Basket", "Bag", "Tin", "Case", "Jar", "Toolbox", "Suitcase",
    "Folder", "Tray", "Pouch",
];

/// The containers of a long chain, outermost first: a suitcase in which a bag holds a pouch...
pub(super) const CHAIN: &[&str] = &[
    "Suitcase", "Bag", "Case", "Box", "Pouch", "Tin", "Envelope", "Wallet", "Purse", "Sachet",
    "Locket",
];

/// Short descriptions of places.
pub(super) const PLACE_NOTES: &[&str] = &[
    "Left of the door",
    "Under the stairs",
    "Top shelf, needs a ladder",
    "Behind the boiler",
    "Labelled in red",
    "Blue lid",
    "Needs sorting",
    "Locked, key on the hook",
    "Next to the window",
    "Damp in winter",
    "Stacked two high",
    "Clear plastic",
];

/// Item categories, most common first; an item's category is an index into this list.
pub(super) const CATEGORIES: &[&str] = &[
    "Tools",
    "Kitchen",
    "Electronics",
    "Clothing",
    "Books",
    "Toys",
    "Documents",
    "Decorations",
    "Sports",
    "Garden",
    "Cleaning",
    "Crafts",
    "Bathroom",
    "Camping",
    "Medicine",
    "Music",
];

/// Index of Tools in [`CATEGORIES`].
pub(super) const TOOLS: usize = 0;
/// Index of Electronics in [`CATEGORIES`].
pub(super) const ELECTRONICS: usize = 2;
/// Index of Music in [`CATEGORIES`].
pub(super) const MUSIC: usize = 15;

/// Nouns per category (same order as [`CATEGORIES`]), most common first.
pub(super) const NOUNS: &[&[&str]] = &[
    &[
        "screwdriver",
        "hammer",
        "drill",
        "screws",
        "wrench",
        "pliers",
        "tape measure",
        "saw",
        "spirit level",
        "allen keys",
        "nails",
        "clamp",
        "chisel",
        "glue gun",
        "sander",
        "socket set",
        "stud finder",
        "soldering iron",
        "crowbar",
        "workbench vice",
    ],
    &[
        "mug",
        "plate",
        "pan",
        "knife",
        "bowl",
        "pot",
        "cutting board",
        "whisk",
        "kettle",
        "baking tray",
        "ladle",
        "colander",
        "toaster",
        "blender",
        "rolling pin",
        "grater",
        "teapot",
        "coffee grinder",
        "measuring cups",
        "crème brûlée torch",
        "waffle iron",
        "fondue set",
    ],
    &[
        "charger",
        "batteries",
        "headphones",
        "remote control",
        "power bank",
        "mouse",
        "keyboard",
        "adapter",
        "USB stick",
        "router",
        "hard drive",
        "camera",
        "tablet",
        "smart speaker",
        "monitor",
        "game console",
        "webcam",
        "e-reader",
        "walkie-talkie",
        "label printer",
    ],
    &[
        "socks",
        "t-shirt",
        "sweater",
        "jacket",
        "scarf",
        "gloves",
        "boots",
        "jeans",
        "hat",
        "belt",
        "rain coat",
        "swimsuit",
        "tie",
        "dressing gown",
        "ski jacket",
    ],
    &[
        "novel",
        "cookbook",
        "comic",
        "notebook",
        "dictionary",
        "photo album",
        "atlas",
        "travel guide",
        "encyclopedia",
        "poetry book",
        "field guide",
    ],
    &[
        "puzzle",
        "building blocks",
        "board game",
        "teddy bear",
        "doll",
        "toy car",
        "crayons",
        "marbles",
        "kite",
        "train set",
        "yo-yo",
        "piñata",
        "rocking horse",
    ],
    &[
        "receipt",
        "manual",
        "warranty card",
        "passport",
        "tax return",
        "contract",
        "bank statement",
        "insurance policy",
        "birth certificate",
        "diploma",
        "title deed",
    ],
    &[
        "candle",
        "picture frame",
        "vase",
        "fairy lights",
        "ornament",
        "cushion",
        "wreath",
        "poster",
        "figurine",
        "snow globe",
    ],
    &[
        "football",
        "yoga mat",
        "tennis racket",
        "bike pump",
        "helmet",
        "dumbbell",
        "skipping rope",
        "ski goggles",
        "skateboard",
        "climbing harness",
        "golf balls",
    ],
    &[
        "flower pots",
        "seeds",
        "garden hose",
        "trowel",
        "rake",
        "watering can",
        "pruning shears",
        "shovel",
        "bird feeder",
        "lawn sprinkler",
    ],
    &[
        "sponge",
        "bucket",
        "mop",
        "broom",
        "microfiber cloth",
        "vacuum cleaner",
        "dustpan",
        "window squeegee",
        "carpet beater",
    ],
    &[
        "yarn",
        "paint brushes",
        "scissors",
        "glue",
        "sewing kit",
        "fabric",
        "beads",
        "knitting needles",
        "sketchbook",
        "embroidery hoop",
    ],
    &[
        "towel",
        "toothbrush",
        "hair dryer",
        "razor",
        "bath mat",
        "scale",
        "shower curtain",
    ],
    &[
        "flashlight",
        "sleeping bag",
        "tent",
        "lantern",
        "camping stove",
        "compass",
        "water bottle",
        "hammock",
        "tent pegs",
    ],
    &[
        "plasters",
        "thermometer",
        "first aid kit",
        "bandages",
        "pill organizer",
        "hot water bottle",
    ],
    &[
        "guitar",
        "ukulele",
        "sheet music",
        "metronome",
        "harmonica",
        "vinyl records",
        "tuning fork",
    ],
];

/// Words in front of a noun, most common first.
pub(super) const ADJECTIVES: &[&str] = &[
    "old",
    "spare",
    "new",
    "small",
    "large",
    "black",
    "white",
    "red",
    "blue",
    "wooden",
    "plastic",
    "metal",
    "green",
    "broken",
    "vintage",
    "cordless",
    "portable",
    "folding",
    "electric",
    "waterproof",
    "stainless",
    "heavy-duty",
    "mini",
    "yellow",
    "antique",
    "handmade",
    "rechargeable",
    "kids'",
    "enamel",
    "Bavarian",
];

/// Makers per category (same order as [`CATEGORIES`]), most common first; none for most.
pub(super) const BRANDS: &[&[&str]] = &[
    &["Bosch", "Makita", "Stanley", "Fiskars", "Black+Decker"],
    &["IKEA", "Tefal", "WMF", "Le Creuset", "Braun"],
    &[
        "Samsung", "Philips", "Sony", "Anker", "Logitech", "Canon", "Nintendo",
    ],
    &[],
    &[],
    &["Lego", "Playmobil", "Hasbro", "Märklin", "Ravensburger"],
    &[],
    &["IKEA"],
    &["Adidas", "Decathlon", "Wilson"],
    &["Gardena", "Fiskars"],
    &["Kärcher", "Vileda"],
    &[],
    &["Braun", "Philips"],
    &["Coleman", "Victorinox"],
    &[],
    &["Yamaha", "Fender", "Hohner"],
];

/// Kinds of [`super::COMMON_WORD`] items: `USB-C cable`, `HDMI cable`...
pub(super) const CABLE_KINDS: &[&str] = &[
    "USB-C",
    "HDMI",
    "Extension",
    "Ethernet",
    "Charging",
    "Micro USB",
    "Lightning",
    "Audio",
    "Power",
    "Speaker",
    "DisplayPort",
    "Coaxial",
];

/// Names of the [`super::RARE_WORD`] items.
pub(super) const RARE_NAMES: &[&str] = &[
    "Gramophone",
    "Gramophone needle tin",
    "Portable gramophone",
    "Gramophone horn",
    "Gramophone records",
];

/// Where things were bought.
pub(super) const SHOPS: &[&str] = &[
    "the hardware store",
    "IKEA",
    "the flea market",
    "a garage sale",
    "the supermarket",
    "the airport",
    "an online shop",
    "the farmers' market",
];

/// Who gave, borrowed or owns things.
pub(super) const PEOPLE: &[&str] = &[
    "Grandma",
    "Anna",
    "Max",
    "the neighbours",
    "Uncle Tom",
    "Lena",
    "Jonas",
    "Aunt Maria",
    "Sophie",
    "Mr. Okafor",
];

/// Occasions.
pub(super) const OCCASIONS: &[&str] = &[
    "Christmas",
    "the summer holidays",
    "the move",
    "Easter",
    "the garage sale",
    "the wedding",
    "the camping trip",
];

/// Remarks on an item's state.
pub(super) const CONDITIONS: &[&str] = &[
    "Good condition",
    "Like new",
    "Slightly scratched",
    "Needs new batteries",
    "Missing one piece",
    "Works, but loud",
    "Still in the original packaging",
];

/// Serial number prefixes.
pub(super) const SERIAL_PREFIXES: &[&str] = &["SN", "BSH", "PH", "SMG", "SNY", "MKT", "LGT"];

/// Currencies with their weights out of 100: mostly euros.
pub(super) const CURRENCIES: &[(&str, u32)] =
    &[("EUR", 80), ("USD", 9), ("GBP", 6), ("CHF", 3), ("SEK", 2)];
