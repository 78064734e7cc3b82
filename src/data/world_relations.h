// The world's entity kinds and relations: how each fact is worded in a passage, how a bridge
// question refers to the entity a relation leads to, and how a question asks for it.
#pragma once

#include <string>
#include <vector>

namespace steper {

enum class EntityKind { kPerson, kCity, kCountry, kOrganization, kBand, kFilm, kBook };
constexpr int kEntityKindCount = 7;
const char* entity_kind_name(EntityKind k);

enum class Rel {
  kBornIn, kBirthYear, kWorksFor, kSpouse, kMemberOf,                // person
  kLocatedIn, kCityFounded, kCityPopulation,                         // city
  kCapital, kIndependence, kCountryPopulation,                       // country
  kHeadquarters, kFounder, kFoundingYear,                            // organization
  kFormedIn, kFormationYear, kSignedTo,                              // band
  kDirector, kReleaseYear, kFilmedIn,                                // film
  kAuthor, kPublicationYear, kPublisher,                             // book
};
constexpr int kRelCount = 23;

struct RelSpec {
  const char* name;
  EntityKind subject;
  bool numeric;        // the object is a number (a year or a population), not an entity
  EntityKind object;   // meaningful when !numeric
  // Passage sentences: {S}/{s} the subject at/after the start of a sentence, {O}/{o} the object,
  // {V} the number.
  std::vector<const char*> wordings;
  // Bridge noun phrase for the object, {P} the subject phrase ("the city where {P} was born");
  // nullptr when the relation only ends a question.
  const char* phrase;
  // Questions asking for the object; empty when the relation never ends a bridge question.
  std::vector<const char*> questions;
};

const RelSpec& rel_spec(Rel r);

}  // namespace steper
