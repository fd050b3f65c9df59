// The tutorial collection, built into the binary so `laser play` works from any directory.
// Kept identical to levels/tutorial.xsb (a test checks).

/// The hand-made tutorial levels.
public enum Tutorial {
    /// The collection's XSB text.
    public static let text = #"""
        Title: Tutorial
        Author: laser project
        Comment: Fourteen small levels, each teaching one idea, from first push to real puzzles.

        #######
        #@ $ .#
        #######
        Title: First push
        Comment: Walk into a box to push it. Put the box on the goal.

          ####
        ###  #
        #@ $ #
        #  #.#
        #  ###
        ####
        Title: Turn the corner
        Comment: Walk round a box to push it another way.

        #######
        #.    #
        #  $  #
        #  @  #
        #######
        Title: Along the wall
        Comment: A box against a wall can only slide along that wall.

        #######
        #     #
        #@$$ .#
        #    .#
        #     #
        #######
        Title: One at a time
        Comment: You can push only one box, never two in a row.

        ########
        #   #  #
        # $    #
        #@ ## .#
        ########
        Title: Corners are final
        Comment: A box pushed into a corner never moves again. Undo with u.

        #######
        #@    #
        # $*$ #
        #  .  #
        # .   #
        #######
        Title: Goals are not final
        Comment: A box already on a goal may have to leave it.

         #######
         #  .  #
         # #$# #
         #.$@$.#
         # #$# #
         #  .  #
         #######
        Title: Four ways
        Comment: Every box has its own way in.

        #########
        #..$ $ @#
        ####    #
           ######
        Title: Far side first
        Comment: In a dead end, fill the farthest goal first.

        #######
        #     #
        # $.$ #
        # .@. #
        # $.$ #
        #     #
        #######
        Title: Square dance
        Comment: Four boxes, four goals in the middle.

        ######
        #+   #
        #$$$ #
        #..$.#
        #    #
        ######
        Title: Start on a goal
        Comment: The player can stand on goals too.

          #####
          #   #
        ###$# #
        #  .  #
        # $.#@#
        #  .$ #
        ####  #
           ####
        Title: Narrow hall
        Comment: Boxes in a corridor must go in the right order.

        #######
        #.  # #
        # #$  #
        #  @$.#
        # $ # #
        #.    #
        #######
        Title: Pillars
        Comment: Walls inside the room make some pushes impossible.

         ########
         #   .  #
        ##$##$# #
        #  .@ . #
        # $ # $##
        #.  #   #
        #########
        Title: Final exam
        Comment: Everything you have learned, at once.

          #####
        ###   #
        #.@$  #
        ### $.#
        #.##$ #
        # # . ##
        #$ *$$.#
        #   .  #
        ########
        Title: Crowded
        Comment: Many boxes: keep the lanes open.

        """#

    /// The parsed collection.
    public static func collection() -> LevelCollection {
        // The text is fixed and tested; a failure here is a programmer error.
        try! LevelCollection(text: text)
    }
}
