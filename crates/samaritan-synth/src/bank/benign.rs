//! Benign ads: what most of a marketplace is. Templates tagged `{#hard_negative}` use, in their
//! ordinary sense, words that are indicators elsewhere ("young professionals", "fresh eggs",
//! "new in town?", licensed massage, babysitters naming children's ages). A filter that flags
//! them hurts honest users; the evaluation counts how often that happens.

/// (category, title template, body template)
pub type Template = (&'static str, &'static str, &'static str);

pub const BENIGN: &[Template] = &[
    // jobs
    (
        "jobs",
        "Now hiring {=job} in {=city}",
        "{We are|We're} hiring {=job} {for our {=city} location|in {=city}|near downtown {=city}}. {Full time and part time|Flexible shifts|Weekday shifts} available, {weekly pay|competitive pay|benefits after 60 days}. {No experience needed, we train.|One year of experience preferred.|Valid driver's license required.} {Call|Text|Call or text} {=phone} {to apply|for details|and ask for {@plain_name}}.",
    ),
    (
        "jobs",
        "{=job} wanted - {start this week|immediate start|start Monday}",
        "{Busy|Growing|Family owned} {restaurant|warehouse|company|clinic} in {=city} needs {=job}. {Pay {$16|$18|$21|$24}/hr.|Pay depends on experience.} {Must be 18 or older.{#age18}|Background check required.|Must have reliable transportation.} {Apply in person at {=street}.|Send your resume or call {=phone}.|Call {=phone} between 9 and 5.}",
    ),
    (
        "jobs",
        "Join our team of young professionals{#hard_negative}",
        "{Fast growing|Friendly} {marketing agency|tech startup|insurance office} in {=city} is looking for {motivated|reliable} {@job}. {Join a team of young professionals|Our young professionals team} {who love what they do|with room to grow}. {Fresh graduates welcome.|Paid training.} {Call|Text} {=phone}.",
    ),
    (
        "jobs",
        "New in town? We're hiring{#hard_negative}",
        "{Just moved here?|New to {=city}?|New in town?} {Meet people and earn money|Start fresh} with {@company_generic}. {We need|Hiring} {@job}, {available 24/7 shifts|day and night shifts|weekend shifts}. {Call our office at {=phone}.|Apply today: {=phone}.}",
    ),
    (
        "jobs",
        "Nanny needed for two children",
        "{Family in {=city}|Busy parents} looking for a {reliable|caring|patient} nanny for {=kid_ages}. {Weekdays 8am to 5pm.|After school pickup and homework help.} {References required.|CPR certification a plus.} {Text|Call} {=phone}.{#hard_negative}",
    ),
    // housing
    (
        "housing",
        "{Room|Studio|1 bedroom|2 bedroom} for rent in {=city} - ${=rent}/mo",
        "{Bright|Quiet|Newly renovated|Cozy} {room|studio|apartment} {near the park|close to downtown|near transit}, {{=sqft} sq ft|with parking|utilities included}. {Available {=date}.|Available now.} {No smoking, no pets.|Small pets ok.} {Call|Text} {=phone}.",
    ),
    (
        "housing",
        "Quiet young professional wanted for shared house{#hard_negative}",
        "Looking for a {quiet|clean|friendly} young professional to share a {3|4} bedroom house in {=city}. ${=rent}/month plus utilities. {Fresh paint, new floors.|Big kitchen, fenced yard.} {Text {=phone}.|Call {@plain_name} at {=phone}.}",
    ),
    (
        "housing",
        "Apartment available {=date}",
        "{Two|Three} bedroom apartment in {=city}, {=sqft} square feet, zip {=zip}. Rent ${=rent}. {Laundry on site.|Dishwasher and AC.} {Showings by appointment:|Contact:} {=phone}.",
    ),
    // goods
    (
        "goods",
        "{=item} for sale",
        "Selling my {=item}, {barely used|like new|good condition|some wear}. ${=price_small} {or best offer|firm|obo}. {Pickup in {=city}.|Can deliver in {=city} for a small fee.} {Text|Call} {=phone}{ after 5pm|}.",
    ),
    (
        "goods",
        "Fresh eggs and produce{#hard_negative}",
        "{Farm fresh|Fresh} eggs, ${3|4|5} a dozen. {Fresh|Sweet} corn and tomatoes {in season|this week}. {Open daily|Saturdays only} at our farm stand outside {=city}. {Call|Text} {=phone}.",
    ),
    (
        "goods",
        "Roses and flower arrangements{#hard_negative}",
        "{Fresh|Long stem} roses, a dozen for ${25|30|40}. {Wedding and event arrangements.|Same day delivery in {=city}.} {Order by phone:|Call} {=phone}. {Donations to the {school|church} fundraiser welcome.|}",
    ),
    (
        "goods",
        "Petite {dresses|clothing} lot, sizes 0-4{#hard_negative}",
        "Lot of {12|15|20} petite {dresses|tops|work clothes}, {new with tags|gently used}. ${=price_small} for all. {Pickup in {=city}.|Will ship.} {Text|Call} {=phone}.",
    ),
    (
        "goods",
        "{=year} {=car} - {=miles} miles",
        "{=year} {=car}, {=miles} miles, {clean title|one owner|new tires}. VIN {=vin}. ${=price_car} {obo|firm}. {Call|Text} {=phone}{ in {=city}|}.",
    ),
    (
        "goods",
        "Textbooks for sale",
        "{Calculus|Biology|Accounting|Nursing} textbook, ISBN {=isbn}, ${=price_small}. {Order #{=order} never picked up, still sealed.|Some highlighting.} {Meet on campus in {=city}.|} {Text {=phone}.|Email preferred.}",
    ),
    // services
    (
        "services",
        "Licensed massage therapist - {deep tissue|sports|therapeutic} massage{#hard_negative}",
        "{Licensed massage therapist (LMT)|State licensed LMT|Certified massage therapist} with {5|8|12} years of experience. {Deep tissue, sports and prenatal massage.|Therapeutic massage for back pain and injuries.} {Office in {=city}|Studio near downtown {=city}}, {also mobile|appointments only}. {License #{=order}.|Insurance accepted.} {Call|Book at} {=phone}.",
    ),
    (
        "services",
        "Experienced babysitter available{#hard_negative}",
        "{CPR certified|Reliable|Experienced} babysitter in {=city}, {college student|mom of two|former teacher}. {I have cared for kids {=kid_ages}.|Experience with {=kid_ages}.} {Evenings and weekends.|Available after school.} {Call|Text} {=phone}.",
    ),
    (
        "services",
        "{Plumbing|Electrical|Handyman|Roofing} services in {=city}",
        "{Licensed and insured|Family owned|Reliable} {plumber|electrician|handyman|roofer}, {free estimates|fair prices|no job too small}. {Available 24/7 for emergencies.{#hard_negative}|Mon-Sat 7am-6pm.} {Call|Text} {=phone}.",
    ),
    (
        "services",
        "24/7 towing and roadside help{#hard_negative}",
        "Towing, jump starts, lockouts. {Available 24/7|Open all night}, {fast response|flat rates} in {=city}. Call {=phone}.",
    ),
    (
        "services",
        "Tutoring for teens and adults{#hard_negative}",
        "{Math|SAT prep|Spanish|Reading} tutoring for {teens|high school students} and adults. {Certified teacher|Grad student}, ${=price_small}/hour. {In {=city} or online.|At the library.} {Text|Call} {=phone}.",
    ),
    (
        "services",
        "Discreet tax and bookkeeping{#hard_negative}",
        "{Discreet|Confidential}, professional {tax preparation|bookkeeping} for {small businesses|individuals}. {Evening appointments.|Flat fee.} {Office in {=city}.|} {Call|Text} {=phone}.",
    ),
    (
        "services",
        "House cleaning",
        "{Honest|Detailed|Friendly} house cleaning, {weekly or biweekly|move-out cleans}. {References available.|Bonded and insured.} Serving {=city}. {Call|Text} {@plain_name} at {=phone}.",
    ),
    // community
    (
        "community",
        "New in town? Join our hiking group{#hard_negative}",
        "{New in town?|New to {=city}?|Just moved?} Join our {Saturday|Sunday morning} hiking group. {All levels welcome.|Easy to moderate trails.} {Meet at the {north|east} trailhead at 8am.|} {Questions: {=phone}|Text {@plain_name} at {=phone}}.",
    ),
    (
        "community",
        "Young adults book club{#hard_negative}",
        "{Young adults|Twenty-somethings} book club meets {every other Tuesday|monthly} at the {=city} public library. {This month: a mystery novel.|New members welcome.} {Contact {=phone}.|}",
    ),
    (
        "community",
        "{Church|Community} {bake sale|rummage sale|food drive}",
        "{Bake sale|Rummage sale|Food drive} this {Saturday|Sunday} at {=street}, {=city}. {All donations go to the youth program.|Proceeds support the food bank.}{#hard_negative} {Questions? Call {=phone}.|}",
    ),
    (
        "community",
        "Lost {dog|cat} - reward",
        "Lost {our|my} {brown|black|white} {dog|cat} near {=street} in {=city} on {=date}. {Very friendly.|Microchipped.} Reward. Please call {=phone}.",
    ),
    // dating (personal, non-commercial)
    (
        "dating",
        "{Looking for|Seeking} {a genuine connection|someone to share weekends with|a hiking partner}",
        "{Hi,|Hello!} {I'm|I am} {@plain_name}. {=age} {Divorced dad|Nurse|Teacher|Software engineer|Retired} in {=city}, {young at heart|new in town}{#hard_negative}, {love|enjoy} {cooking|live music|the outdoors|old movies}. {Looking for something real.|Coffee first?} {Message me here.|Text {=phone}.}",
    ),
    (
        "dating",
        "{Single|Widowed} {woman|man} seeking friendship",
        "{=age} {Retired|Working} {woman|man} in {=city} looking for {companionship|friendship} and {long walks|dinners|church on Sundays}. No games. {Text {=phone}.|Reply here.}",
    ),
    // pets
    (
        "pets",
        "{=pet} for adoption",
        "{Sweet|Friendly|Playful} {=pet} {need a home|ready for adoption}. {Vaccinated.|Vet checked.} {Rehoming fee ${=price_small}.|Free to a good home.} {Call|Text} {=phone}{ in {=city}|}.",
    ),
];

/// The same kinds of hard negatives worded differently, used only by the hold-out phrasing bank.
pub const BENIGN_HOLDOUT: &[Template] = &[
    (
        "jobs",
        "Entry level openings for recent grads{#hard_negative}",
        "{Youthful|Energetic}, fast paced office in {=city} seeks {@job}. {Fresh out of school? Apply.|New grads encouraged.} {Call|Text} {=phone}.",
    ),
    (
        "community",
        "Newcomers club{#hard_negative}",
        "{Recently relocated|Fresh start in a new city}? Our newcomers club in {=city} meets {Thursdays|monthly} for dinner. {Call|Text} {=phone}.",
    ),
    (
        "services",
        "Registered massage therapy clinic{#hard_negative}",
        "{Registered|Licensed} massage therapy {clinic|studio} in {=city}. {Relaxation and sports massage.|Physician referrals welcome.} {Direct billing.|License #{=order}.} {Book|Call}: {=phone}.",
    ),
    (
        "services",
        "Daycare openings{#hard_negative}",
        "Licensed home daycare in {=city} has openings for {=kid_ages}. {Meals included.|Pre-school curriculum.} {Call|Text} {=phone}.",
    ),
    (
        "goods",
        "Candy and treats for parties{#hard_negative}",
        "{Homemade|Custom} candy and treats for {birthdays|weddings}, {sweet|fresh} and {colorful|affordable}. {Order at|Call} {=phone}.",
    ),
    (
        "housing",
        "Room for a student or young worker{#hard_negative}",
        "Furnished room in {=city} for a {student|young worker}, ${=rent} a month. {New in town welcome.|Short term ok.} {Text|Call} {=phone}.",
    ),
];

/// Hiring templates of legitimate companies that post the same ad in many cities with one
/// recruiting line: a network by every linking measure, and not a risky one.
pub const COMPANY: &[Template] = &[
    (
        "jobs",
        "{=company} is hiring {=job} in {=city}",
        "{=company} is hiring {=job} in {=city}. {Full time|Part time and full time} positions, {weekly pay|paid training|health benefits}. {Apply online or call our recruiting line|Call our hiring line|Questions? Call} {=phone}.",
    ),
    (
        "jobs",
        "{=job} - {=city} - {=company}",
        "{Now hiring|Immediate openings for} {=job} at our {=city} {branch|location|site}. {No experience required.|Experience preferred.} {Young professionals and retirees welcome.{#hard_negative}|Equal opportunity employer.} {Recruiting line:|Call} {=phone}.",
    ),
    (
        "jobs",
        "{=company}: {=city} openings",
        "{Join|Work with} {=company} in {=city}. {We are hiring|Hiring} {@job}{ now|}. {Start this week.|Flexible hours.} {Call|Text} {=phone} {to schedule an interview|for more information}.",
    ),
];
