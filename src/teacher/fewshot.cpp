#include "teacher/fewshot.h"

#include <cctype>

#include "core/error.h"
#include "core/io.h"
#include "rag/framework.h"

namespace steper {

// ---- the demonstrations (fictional entities, written in each data set's style)

// Each demonstration's follow-up questions (Self-Ask) ask for what its sentences, the intermediate
// answers, state.
static std::vector<FewShotDemo> hotpotqa_demos() {
  return {
      {{{"d1", "Marlow Creek Dam",
         "Marlow Creek Dam is an earth-fill embankment dam on Marlow Creek in Dorrance County, Kansas. It was "
         "completed in 1962 by the Bureau of Reclamation for flood control and irrigation."},
        {"d2", "Dorrance County, Kansas",
         "Dorrance County is a county in the U.S. state of Kansas. Its county seat is Ellery, and its population "
         "was 6,214 at the 2010 census."},
        {"d3", "Marlow Creek",
         "Marlow Creek is a 48-mile tributary of the Saline River in central Kansas."}},
       "What is the county seat of the county where Marlow Creek Dam is located?",
       {"Marlow Creek Dam is located in Dorrance County, Kansas.",
        "The county seat of Dorrance County is Ellery.", "So the answer is: Ellery."},
       {"Where is Marlow Creek Dam located?", "What is the county seat of Dorrance County, Kansas?"}},
      {{{"d4", "The Quiet Orchard",
         "The Quiet Orchard is a 1987 British drama film directed by Helen Ashdown and starring Peter Vane."},
        {"d5", "Lanterns at Dusk",
         "Lanterns at Dusk is a 1991 Canadian mystery film written and directed by Marc Delorme."},
        {"d6", "Helen Ashdown",
         "Helen Ashdown (born 1949) is an English film and television director."}},
       "Which film was released first, The Quiet Orchard or Lanterns at Dusk?",
       {"The Quiet Orchard was released in 1987.", "Lanterns at Dusk was released in 1991.",
        "So the answer is: The Quiet Orchard."},
       {"When was The Quiet Orchard released?", "When was Lanterns at Dusk released?"}},
      {{{"d7", "Tomas Rivelle",
         "Tomas Rivelle (1921-1998) was a Belgian architect known for the Halvard Concert Hall in Antwerp."},
        {"d8", "Halvard Concert Hall",
         "The Halvard Concert Hall is a concert venue in Antwerp, Belgium, opened in 1964. It is home to the "
         "Antwerp Chamber Orchestra."},
        {"d9", "Antwerp Chamber Orchestra",
         "The Antwerp Chamber Orchestra is a Belgian chamber orchestra founded in 1957 by the violinist Greta "
         "Mols."}},
       "Who founded the orchestra based in the concert hall designed by Tomas Rivelle?",
       {"Tomas Rivelle designed the Halvard Concert Hall.",
        "The Halvard Concert Hall is home to the Antwerp Chamber Orchestra.",
        "The Antwerp Chamber Orchestra was founded by Greta Mols.", "So the answer is: Greta Mols."},
       {"Which concert hall did Tomas Rivelle design?", "Which orchestra is based in the Halvard Concert Hall?", "Who founded the Antwerp Chamber Orchestra?"}},
  };
}

static std::vector<FewShotDemo> twowiki_demos() {
  return {
      {{{"w1", "Winter of the Larks",
         "Winter of the Larks is a 1958 Swedish drama film directed by Anders Lindqvist."},
        {"w2", "Anders Lindqvist",
         "Anders Lindqvist (12 March 1911 - 4 June 1979) was a Swedish film director. He was the son of the "
         "actor Erik Lindqvist."},
        {"w3", "Erik Lindqvist",
         "Erik Lindqvist (1880-1944) was a Swedish stage actor."}},
       "Who is the father of the director of film Winter of the Larks?",
       {"The director of Winter of the Larks is Anders Lindqvist.",
        "The father of Anders Lindqvist is Erik Lindqvist.", "So the answer is: Erik Lindqvist."},
       {"Who directed Winter of the Larks?", "Who is the father of Anders Lindqvist?"}},
      {{{"w4", "Paolo Ferrante",
         "Paolo Ferrante (born 2 May 1932 in Turin) is an Italian composer."},
        {"w5", "Jules Maranne",
         "Jules Maranne (born 17 October 1928 in Lyon) was a French painter."}},
       "Who was born first, Paolo Ferrante or Jules Maranne?",
       {"Paolo Ferrante was born on 2 May 1932.", "Jules Maranne was born on 17 October 1928.",
        "So the answer is: Jules Maranne."},
       {"When was Paolo Ferrante born?", "When was Jules Maranne born?"}},
      {{{"w6", "Lady Mirela of Stenhal",
         "Lady Mirela of Stenhal (1612-1671) was the daughter of Count Aldric of Stenhal."},
        {"w7", "Aldric of Stenhal",
         "Count Aldric of Stenhal (1580-1640) was a nobleman of Bohemia. His father was Count Radim of "
         "Stenhal."}},
       "Who is the paternal grandfather of Lady Mirela of Stenhal?",
       {"The father of Lady Mirela of Stenhal is Count Aldric of Stenhal.",
        "The father of Count Aldric of Stenhal is Count Radim of Stenhal.",
        "So the answer is: Count Radim of Stenhal."},
       {"Who is the father of Lady Mirela of Stenhal?", "Who is the father of Count Aldric of Stenhal?"}},
  };
}

static std::vector<FewShotDemo> musique_demos() {
  return {
      {{{"m1", "Keldor Records",
         "Keldor Records is an independent record label founded in 1994 in Leeds by the producer Iain Pask."},
        {"m2", "Iain Pask",
         "Iain Pask is a record producer born in Dunmore, a town in Scotland."},
        {"m3", "Dunmore",
         "Dunmore is a town on the east coast of Scotland, in the council area of Fife."}},
       "In which council area is the birthplace of the founder of Keldor Records?",
       {"Keldor Records was founded by Iain Pask.", "Iain Pask was born in Dunmore.",
        "Dunmore is in the council area of Fife.", "So the answer is: Fife."},
       {"Who founded Keldor Records?", "Where was Iain Pask born?", "In which council area is Dunmore?"}},
      {{{"m4", "Sorrel Bay",
         "Sorrel Bay is the third studio album by the band The Tidewalkers, released in 2009."},
        {"m5", "The Tidewalkers",
         "The Tidewalkers are an indie rock band formed in Halifax, Nova Scotia."},
        {"m6", "Halifax, Nova Scotia",
         "Halifax is the capital and largest municipality of the Canadian province of Nova Scotia."}},
       "What province contains the city where the performer of Sorrel Bay was formed?",
       {"Sorrel Bay was performed by The Tidewalkers.", "The Tidewalkers were formed in Halifax.",
        "Halifax is in the province of Nova Scotia.", "So the answer is: Nova Scotia."},
       {"Who performed Sorrel Bay?", "Where were The Tidewalkers formed?", "In which province is Halifax?"}},
  };
}

static std::vector<FewShotDemo> world_demos() {
  return {
      {{{"x1", "Orvane Tessaly",
         "Orvane Tessaly is a cartographer who was born in the town of Quillmere."},
        {"x2", "Quillmere", "Quillmere is a river town in the province of Darrowfell."}},
       "In which province is the town where Orvane Tessaly was born?",
       {"Orvane Tessaly was born in Quillmere.", "Quillmere is in the province of Darrowfell.",
        "So the answer is: Darrowfell."},
       {"Where was Orvane Tessaly born?", "In which province is Quillmere?"}},
      {{{"x3", "Belinor Hask",
         "Belinor Hask is a sculptor. Belinor Hask studied at the Vantry Academy."},
        {"x4", "Vantry Academy",
         "The Vantry Academy is an art school that was founded by Maelis Corrow."},
        {"x5", "Maelis Corrow", "Maelis Corrow is a painter who lives in Estergate."}},
       "Where does the founder of the school Belinor Hask studied at live?",
       {"Belinor Hask studied at the Vantry Academy.", "The Vantry Academy was founded by Maelis Corrow.",
        "Maelis Corrow lives in Estergate.", "So the answer is: Estergate."},
       {"Which school did Belinor Hask study at?", "Who founded the Vantry Academy?", "Where does Maelis Corrow live?"}},
      {{{"x6", "Talmo Reeve", "Talmo Reeve is a glassblower, born in 1874."},
        {"x7", "Irsa Vell", "Irsa Vell, born in 1869, is a weaver from Quillmere."}},
       "Who was born earlier, Talmo Reeve or Irsa Vell?",
       {"Talmo Reeve was born in 1874.", "Irsa Vell was born in 1869.", "So the answer is: Irsa Vell."},
       {"When was Talmo Reeve born?", "When was Irsa Vell born?"}},
  };
}

// ---- lookup and rendering

std::vector<std::string> fewshot_types() { return {"hotpotqa", "2wiki", "musique", "world"}; }

std::vector<FewShotDemo> fewshot_demos(const std::string& type) {
  if (type == "hotpotqa") return hotpotqa_demos();
  if (type == "2wiki") return twowiki_demos();
  if (type == "musique") return musique_demos();
  if (type == "world") return world_demos();
  throw Error("--fewshot: unknown type \"" + type + "\" (expected hotpotqa, 2wiki, musique, world, none or a file)");
}

std::vector<std::string> fewshot_steps(const FewShotDemo& demo, const LoopOptions& loop) {
  if (framework_of(loop) == Framework::kIrcot) return demo.sentences;
  if (demo.follow_ups.size() + 1 != demo.sentences.size())
    throw BugError(__FILE__, __LINE__, "demonstration \"" + demo.question + "\": one follow-up per sentence");
  std::vector<std::string> steps;
  for (size_t i = 0; i < demo.follow_ups.size(); ++i) steps.push_back(self_ask_pair(demo.follow_ups[i], demo.sentences[i]));
  steps.push_back(answer_step(loop, answer_of_step(LoopOptions{}, demo.sentences.back())));
  return steps;
}

std::string fewshot_render(const std::vector<FewShotDemo>& demos, const LoopOptions& loop) {
  std::string out;
  for (const auto& d : demos) {
    std::vector<Passage> shown;
    for (const auto& p : d.passages) shown.push_back(shown_passage(p, loop.passage_words));
    out += step_prompt(loop, d.question, shown, {}) + steps_text(loop, fewshot_steps(d, loop));
    out += framework_of(loop) == Framework::kIrcot ? "\n\n\n" : "\n\n";
  }
  return out;
}

std::string fewshot_prefix(const std::string& type_or_file, const LoopOptions& loop) {
  if (type_or_file.empty() || type_or_file == "none") return "";
  for (const auto& t : fewshot_types())
    if (t == type_or_file) return fewshot_render(fewshot_demos(t), loop);
  if (!file_exists(type_or_file))
    throw Error("--fewshot: \"" + type_or_file + "\" is neither a type (hotpotqa, 2wiki, musique, world, none) nor a file");
  return read_file(type_or_file);
}

static bool is_hex_id(const std::string& id) {
  if (id.size() != 24) return false;
  for (char c : id)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string fewshot_detect_type(const std::vector<Question>& questions) {
  size_t musique = 0, twowiki = 0, hotpot = 0;
  for (const auto& q : questions) {
    if (q.id.find("hop") != std::string::npos && q.id.find("__") != std::string::npos) ++musique;
    else if (q.type == "compositional" || q.type == "inference" || q.type == "bridge_comparison") ++twowiki;
    else if (is_hex_id(q.id)) ++hotpot;
  }
  size_t n = questions.size();
  if (n == 0) return "world";
  if (musique * 2 > n) return "musique";
  if (twowiki * 5 > n) return "2wiki";  // 2Wiki also has plain "comparison" questions
  if (hotpot * 2 > n) return "hotpotqa";
  return "world";
}

}  // namespace steper
