//! Commercial-sex ads, written clinically: what such ads say about availability, rates, contact and
//! the people in them, never explicit content. Cue groups follow `notes/domain.md`: youth wording,
//! third-party control, rosters, unbounded offers, constant availability, stated ethnicity,
//! "trustworthy/professional" wording, movement wording. Each cue sentence records a tag so the
//! truth file can say which cues an ad carries.
//!
//! Two phrasing banks say the same things in different words. `MAIN` is what the engine is
//! developed against; `HOLDOUT` is used only to check that the policy generalises to wording its
//! authors did not write into the generator.

pub struct Phrasing {
    pub titles: &'static [&'static str],
    pub intro: &'static [&'static str],
    pub describe: &'static [&'static str],
    pub ethnicity: &'static [&'static str],
    pub availability: &'static [&'static str],
    pub always_available: &'static [&'static str],
    pub rates: &'static [&'static str],
    pub screening: &'static [&'static str],
    pub contact: &'static [&'static str],
    pub movement: &'static [&'static str],
    pub professional: &'static [&'static str],
    pub youth: &'static [&'static str],
    pub third_party: &'static [&'static str],
    pub roster: &'static [&'static str],
    pub unbounded: &'static [&'static str],
    pub language: &'static [&'static str],
    pub closing: &'static [&'static str],
}

pub const MAIN: Phrasing = Phrasing {
    titles: &[
        "{@adj} {@companion} {in|visiting|now in} {=city}",
        "{=name} {-|~|•|*} {@adj} {&|and} {@adj}",
        "{Upscale|Elite|Discreet|Classy|Private} companionship {in|around} {=city}",
        "{@adj} {=ethnicity} {@companion} {available now|here now|in {=city}}",
        "{Available now|Tonight only|Let's meet} {❤️|💋|✨|} {=name}",
        "{=name} {in {=city}|incall {=city}|outcall only}",
    ],
    intro: &[
        "{Hi|Hello|Hey} {gentlemen|guys|there}{!|,|.} {I'm|I am|My name is|This is} {=name}.",
        "{Sweet|Classy|Friendly} and {discreet|respectful} {@companion} {=name} {here|available}.",
        "{Looking for|Need} {some company|a relaxing evening|good company}? {I'm|This is} {=name}.",
    ],
    describe: &[
        "{I'm|I am} a {@adj} {and {@adj} |}{@companion} who {enjoys|loves|likes} {good conversation|fine dining|meeting new people|quality time}.",
        "{Upscale|Relaxed|Easy going} {experience|company} {for the discerning gentleman|with no rush|in a clean private setting}.",
        "{Tall|Curvy|Slim|Athletic} {and {fun|friendly|classy}|}, {5'2|5'4|5'6|5'8}\" {110|120|125|135} lbs.",
    ],
    ethnicity: &[
        "{Beautiful|Exotic|Lovely} {=ethnicity} {@companion}.{#ethnicity}",
        "{I'm|Sweet} {=ethnicity} {and {@adj}|girl}.{#ethnicity}",
        "{Hot|Pretty} {=ethnicity} {beauty|doll} {here for you|waiting}.{#ethnicity}",
    ],
    availability: &[
        "{Incall|In-call} {and|&|or} {outcall|out-call} {available|}.",
        "{Available|Open} {today|tonight|this evening} {from {10am|noon|6pm} till late|}.",
        "{Incall only|Outcall only}, {clean|safe|private} {place|location}.",
    ],
    always_available: &[
        "{Available|Open} {24/7|24 hours|day and night|around the clock}.{#always}",
        "{Anytime|Any time}, {24/7|all night long}.{#always}",
    ],
    rates: &[
        "{Rates|Donations|Roses}: {=rate}.",
        "{=rate}, {no negotiating|specials for regulars|ask about overnight}.",
        "{Donation|Roses} {=rate}.",
    ],
    screening: &[
        "{Screening required|Serious inquiries only|No private numbers|Please be respectful|References preferred}.",
        "{No law enforcement|No cops}. {No games|No drama}.",
        "{Text only, no calls|Calls only, no texts} {please|}.",
    ],
    contact: &[
        "{Call|Text|Text or call|Contact me at|Reach me at} {=phone}{.|!| anytime.| now.}",
        "{My number|Number}: {=phone}.",
        "{=phone} {call me|text me|for appointments}.",
    ],
    movement: &[
        "{New in town|Just arrived in {=city}|Visiting {=city} {this week only|for a few days}}{!|.}{#movement}",
        "{Leaving {soon|Sunday|Friday}|Limited time only|Last days in town}{!|.}{#movement}",
        "{On tour|Traveling}, {in {=city} until {Monday|the weekend}|next stop {=city}}.{#movement}",
    ],
    professional: &[
        "{100% real pics|Real photos, no surprises|Pictures are real}.{#professional}",
        "{Professional and discreet|Trusted and reliable|Well reviewed and trusted}.{#professional}",
        "{Genuine|Verified} {@companion}, {trustworthy|professional} {service|and respectful}.{#professional}",
    ],
    youth: &[
        "{Young and {sweet|fresh}|Fresh {face|and new}|Sweet young thing}.{#youth}",
        "{New to this|First time on here|Brand new to the scene}.{#youth}",
        "{Petite and innocent|Tiny and innocent|Little cutie}.{#youth}",
        "{College student|Schoolgirl look|Girl next door, very young looking}.{#youth}",
    ],
    third_party: &[
        "{Ask for|Call} {my manager|my driver|my friend|my boyfriend} {=manager} {to book|to set up time|for details}.{#third_party}",
        "{Booking through {my|our} {manager|agency|booker} only|My manager answers the phone}.{#third_party}",
        "{He|My friend} {will text you back|sets up all dates}.{#third_party}",
    ],
    roster: &[
        "{New girls every week|Several girls to choose from|Two girls available|Ask about my friends}.{#roster}",
        "{Our girls|My girls} are {ready|waiting|available}.{#roster}{#third_party}",
    ],
    unbounded: &["{No limits|Anything goes|Whatever you want}.{#unbounded}"],
    language: &["{Little English|No English, text only|Speaks little English}.{#language}"],
    closing: &[
        "{Don't miss out|See you soon|Kisses|Treat yourself}{!|.|}",
        "{Text me now|Call now}{!|.}",
        "",
    ],
};

pub const HOLDOUT: Phrasing = Phrasing {
    titles: &[
        "{=name} {just landed|back in town|is here} {in|at} {=city}",
        "{Gorgeous|Stunning|Charming} {=ethnicity} {doll|beauty} {=city}",
        "{Massage|Relaxation|Company} {and more|by {=name}} {in {=city}|near the airport}",
        "{Come see|Visit} {=name} {tonight|today}",
    ],
    intro: &[
        "{Hola|Hey handsome|Hi babe}, {they call me|it's} {=name}.",
        "{Let me|Allow me to} {take care of you|brighten your day}, {=name} here.",
    ],
    describe: &[
        "{Sexy|Beautiful|Pretty} {and {classy|sweet}|}, {great attitude|always smiling}.",
        "{Best in town|You won't regret it|Always on time}.",
    ],
    ethnicity: &[
        "{=ethnicity} {mami|princess|doll}.{#ethnicity}",
        "{Born in|From} {Brazil|Thailand|Colombia|Korea|Ukraine}.{#ethnicity}",
    ],
    availability: &[
        "{Hotel|Car|Home} {visits|dates} {ok|welcome}.",
        "{Call for|Ask about} {availability|my schedule}.",
    ],
    always_available: &["{Open all hours|Never closed|Available whenever you are}.{#always}"],
    rates: &["{Specials|Prices}: {=rate}.", "{=rate} {only|special}."],
    screening: &[
        "{No cops|No LE|No undercover}. {Serious only|Real clients only}.",
        "{Blocked numbers ignored|No blocked calls}.",
    ],
    contact: &[
        "{Hit me up|Message me|Holla} {at|on} {=phone}.",
        "{Digits|Cell}: {=phone}",
    ],
    movement: &["{Only here till Tuesday|In and out of town|Passing through {=city}}.{#movement}"],
    professional: &[
        "{Honest and real|What you see is what you get|Safe, clean and reliable}.{#professional}",
    ],
    youth: &[
        "{Barely legal|Teen look|Lil one|Baby face}.{#youth}",
        "{Fresh out of school|Just started|First week working}.{#youth}",
        "{Youthful|Very young} and {tiny|small}.{#youth}",
    ],
    third_party: &[
        "{Daddy|My man|My boyfriend} {handles|makes} {appointments|the bookings}.{#third_party}",
        "{Text our booker|Our receptionist answers}, {he|she} {sets the time|will call you back}.{#third_party}",
    ],
    roster: &["{Other girls too|Bring a friend, we have more|A new face every week}.{#roster}"],
    unbounded: &["{No rules|Everything included|Open to anything}.{#unbounded}"],
    language: &["{English not good|Only speak Spanish|Text in English only, no calls}.{#language}"],
    closing: &["{Xoxo|Hugs|Don't wait}!", ""],
};

/// Word lists used by the commercial templates.
pub const ADJ: &[&str] = &[
    "sweet",
    "classy",
    "gorgeous",
    "stunning",
    "sexy",
    "elegant",
    "charming",
    "sultry",
    "friendly",
    "beautiful",
    "lovely",
    "playful",
    "fun",
];
pub const COMPANION: &[&str] = &[
    "companion",
    "lady",
    "girl",
    "doll",
    "beauty",
    "sweetheart",
    "model",
];
