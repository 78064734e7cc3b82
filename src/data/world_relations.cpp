#include "data/world_relations.h"

namespace steper {

const char* entity_kind_name(EntityKind k) {
  switch (k) {
    case EntityKind::kPerson: return "person";
    case EntityKind::kCity: return "city";
    case EntityKind::kCountry: return "country";
    case EntityKind::kOrganization: return "organization";
    case EntityKind::kBand: return "band";
    case EntityKind::kFilm: return "film";
    case EntityKind::kBook: return "book";
  }
  return "?";
}

namespace {

using K = EntityKind;

const std::vector<RelSpec>& rel_table() {
  static const std::vector<RelSpec> table = {
      // ---------------------------------------------------------------- person
      {"born_in", K::kPerson, false, K::kCity,
       {"{S} was born in {O}.", "{S} is a native of {O}.", "{S} was born in the city of {O}."},
       "the birthplace of {P}",
       {"Where was {P} born?", "In which city was {P} born?", "What is the birthplace of {P}?"}},
      {"birth_year", K::kPerson, true, K::kPerson,
       {"{S} was born in {V}.", "{S} was born in the year {V}.", "The birth year of {s} is {V}."},
       nullptr,
       {"In which year was {P} born?", "When was {P} born?"}},
      {"works_for", K::kPerson, false, K::kOrganization,
       {"{S} works for {o}.", "{S} is employed by {o}.", "{S} holds a position at {o}."},
       "the employer of {P}",
       {"Which organization does {P} work for?", "Who employs {P}?", "For which organization does {P} work?"}},
      {"spouse_of", K::kPerson, false, K::kPerson,
       {"{S} is married to {O}.", "{S} is the spouse of {O}.", "{S} married {O}."},
       "the spouse of {P}",
       {"Who is the spouse of {P}?", "Who is {P} married to?"}},
      {"member_of", K::kPerson, false, K::kBand,
       {"{S} is a member of {O}.", "{S} plays in {O}.", "{S} performs with {O}."},
       "the band of {P}",
       {"Which band is {P} a member of?", "In which band does {P} play?"}},
      // ---------------------------------------------------------------- city
      {"located_in", K::kCity, false, K::kCountry,
       {"{S} is located in {O}.", "{S} is a city in {O}.", "{S} lies in {O}."},
       "the country of {P}",
       {"In which country is {P}?", "In which country is {P} located?"}},
      {"city_founded", K::kCity, true, K::kCity,
       {"{S} was founded in {V}.", "{S} dates from {V}.", "{S} was settled in {V}."},
       nullptr,
       {"In which year was {P} founded?", "When was {P} founded?"}},
      {"city_population", K::kCity, true, K::kCity,
       {"{S} has a population of {V}.", "{S} is home to {V} people.", "About {V} people live in {s}."},
       nullptr, {}},
      // ---------------------------------------------------------------- country
      {"capital", K::kCountry, false, K::kCity,
       {"The capital of {s} is {O}.", "The capital city of {s} is {O}.", "{O} is the capital of {s}."},
       "the capital of {P}",
       {"What is the capital of {P}?", "Which city is the capital of {P}?"}},
      {"independence_year", K::kCountry, true, K::kCountry,
       {"{S} became independent in {V}.", "{S} gained independence in {V}.", "{S} has been independent since {V}."},
       nullptr,
       {"In which year did {P} become independent?", "When did {P} gain independence?"}},
      {"country_population", K::kCountry, true, K::kCountry,
       {"{S} has a population of {V}.", "{S} is home to {V} people.", "About {V} people live in {s}."},
       nullptr, {}},
      // ---------------------------------------------------------------- organization
      {"headquartered_in", K::kOrganization, false, K::kCity,
       {"{S} is headquartered in {O}.", "{S} is based in {O}.", "The headquarters of {s} are in {O}."},
       "the home city of {P}",
       {"Where is {P} headquartered?", "In which city is {P} based?"}},
      {"founded_by", K::kOrganization, false, K::kPerson,
       {"{S} was founded by {O}.", "{O} founded {s}.", "{S} was established by {O}."},
       "the founder of {P}",
       {"Who founded {P}?", "Who is the founder of {P}?"}},
      {"founding_year", K::kOrganization, true, K::kOrganization,
       {"{S} was founded in {V}.", "{S} was established in {V}.", "{S} has existed since {V}."},
       nullptr,
       {"In which year was {P} founded?", "When was {P} established?"}},
      // ---------------------------------------------------------------- band
      {"formed_in", K::kBand, false, K::kCity,
       {"{S} was formed in {O}.", "{S} got together in {O}.", "{S} was started in the city of {O}."},
       "the hometown of {P}",
       {"Where was {P} formed?", "In which city was {P} formed?"}},
      {"formation_year", K::kBand, true, K::kBand,
       {"{S} was formed in {V}.", "{S} started playing in {V}.", "{S} formed in the year {V}."},
       nullptr,
       {"In which year was {P} formed?", "When did {P} start playing?"}},
      {"signed_to", K::kBand, false, K::kOrganization,
       {"{S} is signed to {o}.", "{S} records for {o}.", "{S} has a contract with {o}."},
       "the label of {P}",
       {"Which organization is {P} signed to?", "Who does {P} record for?"}},
      // ---------------------------------------------------------------- film
      {"directed_by", K::kFilm, false, K::kPerson,
       {"{S} was directed by {O}.", "{O} directed {s}.", "{S} is a film by director {O}."},
       "the director of {P}",
       {"Who directed {P}?", "Who is the director of {P}?"}},
      {"release_year", K::kFilm, true, K::kFilm,
       {"{S} was released in {V}.", "{S} came out in {V}.", "{S} premiered in {V}."},
       nullptr,
       {"In which year was {P} released?", "When did {P} come out?"}},
      {"filmed_in", K::kFilm, false, K::kCity,
       {"{S} was filmed in {O}.", "{S} was shot in {O}.", "Most of {s} was filmed in {O}."},
       "the filming location of {P}",
       {"Where was {P} filmed?", "In which city was {P} shot?"}},
      // ---------------------------------------------------------------- book
      {"written_by", K::kBook, false, K::kPerson,
       {"{S} was written by {O}.", "{O} wrote {s}.", "{S} is a book by {O}."},
       "the author of {P}",
       {"Who wrote {P}?", "Who is the author of {P}?"}},
      {"publication_year", K::kBook, true, K::kBook,
       {"{S} was published in {V}.", "{S} first appeared in {V}.", "{S} was printed in {V}."},
       nullptr,
       {"In which year was {P} published?", "When was {P} first published?"}},
      {"published_by", K::kBook, false, K::kOrganization,
       {"{S} was published by {o}.", "{S} is a title of {o}.", "{O} published {s}."},
       "the publisher of {P}",
       {"Which organization published {P}?", "Who is the publisher of {P}?"}},
  };
  return table;
}

}  // namespace

const RelSpec& rel_spec(Rel r) { return rel_table()[static_cast<size_t>(r)]; }

}  // namespace steper
